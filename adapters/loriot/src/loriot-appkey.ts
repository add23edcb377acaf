import { randomBytes } from 'node:crypto';
import type { AdapterDevice } from '@joinery/core';

/** What createWithoutAppKey needs from the adapter: one API call, `accept`ed statuses returned. */
export type LoriotCall = (method: 'POST' | 'DELETE', url: string, data?: unknown, accept?: readonly number[]) => Promise<{ readonly status: number }>;

/**
 * INFERENCE, isolated here: LORIOT's `POST /1/nwk/app/{APPID}/devices/otaa` schema marks
 * `appkey` required, yet a device joined by an external Join Server must not have its root key
 * on the network server. So:
 *   1. the device is created with a placeholder AppKey: 16 fresh random bytes, never derived
 *      from anything, never stored, never the device's key (its joins cannot use it);
 *   2. the placeholder is then removed with `DELETE /1/nwk/app/{APPID}/device/{DEVEUI}/appkey`
 *      (404/405: nothing to remove, or a server without that call: the placeholder stays, and is
 *      useless to anyone);
 *   3. the application's `joinServerId` (set by the adapter before the first registration)
 *      makes LORIOT send the device's JoinReqs to Joinery instead of answering them itself.
 * Nobody has seen this work against LORIOT; if LORIOT documents another way, only this
 * function changes. Step 2 also runs for a device that already existed (a run interrupted
 * between 1 and 2 is completed).
 */
export async function createWithoutAppKey(call: LoriotCall, appPath: string, device: AdapterDevice, deviceClass: string): Promise<{ created: boolean }> {
  const devEUI = device.devEUI.toUpperCase();
  const body = {
    title: device.name ?? device.devEUI,
    devclass: deviceClass,
    deveui: devEUI,
    appeui: device.joinEUI.toUpperCase(),
    appkey: randomBytes(16).toString('hex').toUpperCase(),
  };
  const created = await call('POST', `${appPath}/devices/otaa`, body, [409]);
  await call('DELETE', `${appPath}/device/${devEUI}/appkey`, undefined, [404, 405]);
  return { created: created.status !== 409 };
}
