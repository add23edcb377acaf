import { devNonceIsCounter, type MACVersion } from './mac-version';

/**
 * The JoinNonce check a device makes before it accepts a join-accept, as Semtech's reference
 * stack (LoRaMac-node) makes it. The device keeps the last accepted JoinNonce in non-volatile
 * memory, zero at power on, and stores each one it accepts:
 * - 1.1 and 1.0.4 (and a 1.1 device in 1.0 mode, whose DevNonce is a counter too): only a
 *   JoinNonce greater than the stored one is accepted;
 * - 1.0.0-1.0.3: only one different from the stored one.
 * Either way a device that has never joined drops JoinNonce 0, which is why a Join Server's
 * first JoinNonce is 1.
 */
export type DeviceJoinNonceVerdict = { readonly accepted: true } | { readonly accepted: false; readonly reason: string };

export function deviceAcceptsJoinNonce(macVersion: MACVersion, stored: number, received: number): DeviceJoinNonceVerdict {
  if (devNonceIsCounter(macVersion)) {
    return received > stored ? { accepted: true } : { accepted: false, reason: `the device would drop this join-accept: JoinNonce ${received} is not greater than its stored ${stored}` };
  }
  return received !== stored ? { accepted: true } : { accepted: false, reason: `the device would drop this join-accept: JoinNonce ${received} is the same as its stored ${stored}` };
}
