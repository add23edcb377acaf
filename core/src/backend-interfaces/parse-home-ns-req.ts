import { parseEUI64, type EUI64 } from '../lorawan/identifiers';

/** HomeNSReq carries the DevEUI whose home network server is asked for. */
export function parseHomeNSReq(body: Record<string, unknown>): { readonly devEUI: EUI64 } {
  return { devEUI: parseEUI64(body['DevEUI'], 'DevEUI') };
}
