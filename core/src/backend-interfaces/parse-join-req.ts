import { decodeJoinRequestFrame } from '../join/join-request-frame';
import type { JoinRequestMessage } from '../join/join-request-message';
import { parseHex } from '../lorawan/hex';
import { parseDevAddr, parseEUI64 } from '../lorawan/identifiers';
import { parseMACVersion } from '../lorawan/mac-version';
import { ParseError } from '../lorawan/parse-error';
import type { RequestHeader } from './request-header';

/** A single byte given as hex (`"80"`, `"0x80"`) or as a number, as peers send DLSettings. */
function parseByte(value: unknown, field: string): number {
  if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= 0 && value <= 0xff) return value;
    throw new ParseError(field, 'expected one byte (0..255)');
  }
  return parseHex(value, field, 1)[0]!;
}

/** RxDelay: the number of seconds of RX1 delay as the MAC carries it (0..15), as a number or numeric string. */
function parseRxDelay(value: unknown): number {
  const n = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 15) return n;
  throw new ParseError('RxDelay', value === undefined ? 'missing' : 'expected an integer 0..15');
}

/**
 * Parses the body of a JoinReq or RejoinReq (tolerant input; both have the same fields), and
 * decodes its PHYPayload once; throws ParseError naming the first bad field. A PHYPayload that
 * is not the message's frame is not a ParseError: it is refused after the served JoinEUI check.
 */
export function parseJoinReq(body: Record<string, unknown>, header: RequestHeader, messageType: 'JoinReq' | 'RejoinReq'): JoinRequestMessage {
  const cf = body['CFList'];
  const cfList = cf === undefined || cf === null || cf === '' ? undefined : parseHex(cf, 'CFList', 16);
  const macVersion = parseMACVersion(body['MACVersion']);
  const phyPayload = parseHex(body['PHYPayload'], 'PHYPayload');
  return {
    messageType,
    macVersion,
    phyPayload,
    frame: decodeJoinRequestFrame(messageType, phyPayload),
    devEUI: parseEUI64(body['DevEUI'], 'DevEUI'),
    receiverJoinEUI: parseEUI64(header.receiverID, 'ReceiverID'),
    devAddr: parseDevAddr(body['DevAddr'], 'DevAddr'),
    dlSettings: parseByte(body['DLSettings'], 'DLSettings'),
    rxDelay: parseRxDelay(body['RxDelay']),
    cfList,
  };
}
