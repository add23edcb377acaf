/** A JSON object of exactly `bytes` bytes (its Padding field takes up the rest). */
export function padJSON(fields: Record<string, unknown>, bytes: number): string {
  const missing = bytes - Buffer.byteLength(JSON.stringify({ ...fields, Padding: '' }));
  if (missing < 0) throw new Error(`the object is longer than ${bytes} bytes`);
  return JSON.stringify({ ...fields, Padding: 'x'.repeat(missing) });
}

/** What the HTTP floor is sent: a 400-byte JSON POST shaped like a JoinReq. */
export const FLOOR_REQUEST = padJSON(
  {
    ProtocolVersion: '1.0',
    SenderID: '000013',
    ReceiverID: '70b3d57ed0000000',
    TransactionID: 1,
    MessageType: 'JoinReq',
    MACVersion: '1.0.3',
    PHYPayload: '00'.repeat(23),
    DevEUI: 'b000000000000000',
    DevAddr: '26011234',
    DLSettings: '00',
    RxDelay: 1,
  },
  400,
);

/** What it answers: a 300-byte JSON body shaped like a JoinAns. */
export const FLOOR_ANSWER = padJSON(
  {
    ProtocolVersion: '1.0',
    SenderID: '70b3d57ed0000000',
    ReceiverID: '000013',
    TransactionID: 1,
    MessageType: 'JoinAns',
    Result: { ResultCode: 'Success' },
    PHYPayload: '20'.repeat(33),
  },
  300,
);
