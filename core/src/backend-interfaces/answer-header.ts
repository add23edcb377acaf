import type { WireAnswerHeader } from './messages';
import type { RequestHeader } from './request-header';

/** `JoinReq` → `JoinAns`, and so on; anything else is answered as an `ErrorNotif`. */
export function answerTypeOf(messageType: string): string {
  return /^[A-Za-z]+Req$/.test(messageType) ? `${messageType.slice(0, -3)}Ans` : 'ErrorNotif';
}

/**
 * The answer's header: same protocol version, Sender and Receiver swapped (the Join Server
 * speaks as the JoinEUI it was asked as), TransactionID echoed, SenderToken echoed as
 * ReceiverToken, and in BI 1.1 the asker's NSID as ReceiverNSID.
 */
export function answerHeader(req: RequestHeader, senderID: string): WireAnswerHeader {
  const header: WireAnswerHeader = {
    ProtocolVersion: req.protocolVersion,
    SenderID: senderID,
    ReceiverID: req.senderID,
    TransactionID: req.transactionID,
    MessageType: answerTypeOf(req.messageType),
  };
  if (req.senderToken !== undefined) header.ReceiverToken = req.senderToken;
  if (req.protocolVersion === '1.1' && req.senderNSID !== undefined) header.ReceiverNSID = req.senderNSID;
  return header;
}
