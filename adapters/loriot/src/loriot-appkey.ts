import { randomBytes } from 'node:crypto';
import type { AdapterDevice, HTTPAnswer } from '@joinery/core';
import { badRequest, isDuplicate, isUnknown, loriotVersion } from './loriot-answers';

/** What createWithoutAppKey needs from the adapter: one API call, `accept`ed statuses returned. */
export type LoriotCall = (method: 'POST' | 'DELETE', url: string, data?: unknown, accept?: readonly number[]) => Promise<HTTPAnswer>;

/**
 * LORIOT's `POST /1/nwk/app/{APPID}/devices/otaa` requires `title, devclass, appkey, deveui,
 * appeui` (OpenAPI 5.0), and `DELETE /1/nwk/app/{APPID}/device/{DEVEUI}/appkey` removes a
 * device's key (204). A device joined by an external Join Server must not have its root key
 * on the network server, so (INFERENCE, isolated here):
 *   1. the device is created with a placeholder AppKey: 16 fresh random bytes, never derived
 *      from anything, never stored, never the device's key (its joins cannot use it), with
 *      its LoRaWAN version as LORIOT's own migration tool sends it;
 *   2. the placeholder is then removed (an unknown device or a server without that call:
 *      the placeholder stays, and is useless to anyone);
 *   3. the application's Join Server (joinServerId, or set by LORIOT on request) sends the
 *      device's JoinReqs to Joinery instead of LORIOT answering them itself.
 * Step 2 also runs for a device that already existed (a run interrupted between 1 and 2 is
 * completed).
 */
export async function createWithoutAppKey(call: LoriotCall, appPath: string, device: AdapterDevice, deviceClass: string): Promise<{ created: boolean }> {
  const devEUI = device.devEUI.toUpperCase();
  const body = {
    title: device.name ?? device.devEUI,
    devclass: deviceClass,
    deveui: devEUI,
    appeui: device.joinEUI.toUpperCase(),
    appkey: randomBytes(16).toString('hex').toUpperCase(),
    ...loriotVersion(device.macVersion),
  };
  const created = await call('POST', `${appPath}/devices/otaa`, body, [400, 409]);
  const duplicate = isDuplicate(created);
  if (created.status === 400 && !duplicate) throw badRequest('registerDevice', created);
  const removed = await call('DELETE', `${appPath}/device/${devEUI}/appkey`, undefined, [400, 404, 405]);
  if (removed.status === 400 && !isUnknown(removed)) throw badRequest('registerDevice', removed);
  return { created: !duplicate };
}
