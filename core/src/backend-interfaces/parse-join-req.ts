import type { JoinRequestInput } from '../join/join-request-input';
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

/** Parses the body of a JoinReq (tolerant input); throws ParseError naming the first bad field. */
export function parseJoinReq(body: Record<string, unknown>, header: RequestHeader): JoinRequestInput {
  const cf = body['CFList'];
  const cfList = cf === undefined || cf === null || cf === '' ? undefined : parseHex(cf, 'CFList', 16);
  return {
    macVersion: parseMACVersion(body['MACVersion']),
    phyPayload: parseHex(body['PHYPayload'], 'PHYPayload'),
    devEUI: parseEUI64(body['DevEUI'], 'DevEUI'),
    receiverJoinEUI: parseEUI64(header.receiverID, 'ReceiverID'),
    devAddr: parseDevAddr(body['DevAddr'], 'DevAddr'),
    dlSettings: parseByte(body['DLSettings'], 'DLSettings'),
    rxDelay: parseRxDelay(body['RxDelay']),
    cfList,
  };
}
