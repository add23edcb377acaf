import type { AppSKeyRequestInput } from '../join/app-s-key-service';
import { parseHex, toHex } from '../lorawan/hex';
import { parseEUI64 } from '../lorawan/identifiers';
import { ParseError } from '../lorawan/parse-error';
import type { RequestHeader } from './request-header';

export function parseAppSKeyReq(body: Record<string, unknown>, header: RequestHeader): AppSKeyRequestInput {
  const sessionKeyID = parseHex(body['SessionKeyID'], 'SessionKeyID');
  if (sessionKeyID.length === 0 || sessionKeyID.length > 64) throw new ParseError('SessionKeyID', 'expected 1..64 bytes of hex');
  return {
    devEUI: parseEUI64(body['DevEUI'], 'DevEUI'),
    sessionKeyID: toHex(sessionKeyID),
    senderID: header.senderID,
  };
}
