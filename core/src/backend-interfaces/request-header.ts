import { parseHex, toHex } from '../lorawan/hex';
import { parseEUI64, type EUI64 } from '../lorawan/identifiers';
import { ParseError } from '../lorawan/parse-error';
import { parseProtocolVersion, type ProtocolVersion } from './protocol-version';

/**
 * The common header of a BI request, parsed tolerantly. Parsing never fails as a whole: what
 * could be read is kept so the answer can still echo it, and the first problem is reported.
 */
export interface RequestHeader {
  readonly protocolVersion: ProtocolVersion;
  /** False when the request's ProtocolVersion was missing or unknown (answered as 1.0). */
  readonly protocolVersionValid: boolean;
  readonly messageType: string;
  /** As sent (trimmed): a NetID for a network server, an AS-ID for an application server. */
  readonly senderID: string;
  readonly receiverID: string;
  readonly transactionID: number;
  readonly senderToken: string | undefined;
  readonly senderNSID: EUI64 | undefined;
}

export type HeaderParse = { readonly header: RequestHeader; readonly problem: ParseError | undefined };

const MAX_UINT32 = 0xffffffff;

export function parseRequestHeader(body: Record<string, unknown>): HeaderParse {
  let problem: ParseError | undefined;
  const note = (e: ParseError): void => {
    problem ??= e;
  };
  const str = (field: string): string => {
    const v = body[field];
    if (typeof v === 'string') return v.trim();
    if (typeof v === 'number' && field !== 'MessageType') return String(v);
    note(new ParseError(field, v === undefined ? 'missing' : 'expected a string'));
    return '';
  };

  const pv = parseProtocolVersion(body['ProtocolVersion']);
  const messageType = str('MessageType');
  const senderID = str('SenderID');
  const receiverID = str('ReceiverID');

  let transactionID = 0;
  const t = body['TransactionID'];
  const tn = typeof t === 'string' && /^\d+$/.test(t.trim()) ? Number(t) : t;
  if (typeof tn === 'number' && Number.isInteger(tn) && tn >= 0 && tn <= MAX_UINT32) transactionID = tn;
  else note(new ParseError('TransactionID', t === undefined ? 'missing' : 'expected an unsigned 32-bit integer'));

  let senderToken: string | undefined;
  const st = body['SenderToken'];
  if (st !== undefined && st !== null && st !== '') {
    try {
      senderToken = toHex(parseHex(st, 'SenderToken'));
    } catch (e) {
      if (e instanceof ParseError) note(e);
      else throw e;
    }
  }

  let senderNSID: EUI64 | undefined;
  const nsid = body['SenderNSID'];
  if (nsid !== undefined && nsid !== null && nsid !== '') {
    try {
      senderNSID = parseEUI64(nsid, 'SenderNSID');
    } catch (e) {
      if (e instanceof ParseError) note(e);
      else throw e;
    }
  }

  return {
    header: {
      protocolVersion: pv ?? '1.0',
      protocolVersionValid: pv !== null,
      messageType,
      senderID,
      receiverID,
      transactionID,
      senderToken,
      senderNSID,
    },
    problem,
  };
}
