import { randomInt } from 'node:crypto';
import { joinRequest, type DeviceKeys } from './lora-device';

/**
 * A JoinReq as a network server sends it for `d` (its join-request built by lora-packet), with
 * the DevAddr it assigned and OptNeg set for a 1.1 device.
 */
export function joinReqMessage(
  d: DeviceKeys,
  devNonce: number,
  o: { readonly senderID: string; readonly protocolVersion?: '1.0' | '1.1'; readonly senderNSID?: string; readonly transactionID?: number },
): Record<string, unknown> {
  return {
    ProtocolVersion: o.protocolVersion ?? '1.0',
    SenderID: o.senderID,
    ...(o.senderNSID ? { SenderNSID: o.senderNSID } : {}),
    ReceiverID: d.joinEUI,
    TransactionID: o.transactionID ?? randomInt(1, 2 ** 31),
    MessageType: 'JoinReq',
    MACVersion: d.macVersion,
    PHYPayload: joinRequest(d, devNonce).toString('hex'),
    DevEUI: d.devEUI,
    DevAddr: '26011234',
    DLSettings: d.nwkKey ? '80' : '00',
    RxDelay: 1,
  };
}
