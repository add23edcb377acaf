import type { MACVersion } from '@joinery/core';

/** TTS `lorawan_version` for each of our MAC versions. */
export const TTS_MAC_VERSION: Readonly<Record<MACVersion, string>> = {
  '1.0.0': 'MAC_V1_0',
  '1.0.1': 'MAC_V1_0_1',
  '1.0.2': 'MAC_V1_0_2',
  '1.0.3': 'MAC_V1_0_3',
  '1.0.4': 'MAC_V1_0_4',
  '1.1': 'MAC_V1_1',
};

/**
 * TTS `lorawan_phy_version` (regional parameters) for each MAC version. Inference: the revision
 * published with that MAC version (1.0.2 → 1.0.2rB, 1.0.3 → 1.0.3rA, 1.0.4 → RP002-1.0.1,
 * 1.1 → 1.1rB); the device's datasheet may name another.
 */
export const TTS_PHY_VERSION: Readonly<Record<MACVersion, string>> = {
  '1.0.0': 'PHY_V1_0',
  '1.0.1': 'PHY_V1_0_1',
  '1.0.2': 'PHY_V1_0_2_REV_B',
  '1.0.3': 'PHY_V1_0_3_REV_A',
  '1.0.4': 'RP002_V1_0_1',
  '1.1': 'PHY_V1_1_REV_B',
};

/** TTS's usual device id for a device known by its DevEUI. */
export function ttsDeviceID(devEUI: string): string {
  return `eui-${devEUI.toLowerCase()}`;
}
