import { parseEUI64, type EUI64 } from '../lorawan/identifiers';
import type { RequestHeader } from './request-header';

/** HomeNSReq carries the DevEUI whose home network server is asked for; its ReceiverID is the device's JoinEUI. */
export function parseHomeNSReq(body: Record<string, unknown>, header: RequestHeader): { readonly devEUI: EUI64; readonly receiverJoinEUI: EUI64 } {
  return { devEUI: parseEUI64(body['DevEUI'], 'DevEUI'), receiverJoinEUI: parseEUI64(header.receiverID, 'ReceiverID') };
}
