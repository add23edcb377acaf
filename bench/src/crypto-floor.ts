import { randomBytes } from 'node:crypto';
import {
  AES128Key,
  aesCmac,
  aesDecryptECB,
  aesKeyWrap,
  decodeJoinRequest,
  deriveJSIntKey,
  deriveSessionKeys10,
  deriveSessionKeys11,
  devNonce,
  DL_SETTINGS_OPT_NEG,
  encodeJoinAcceptPlain,
  encodeJoinRequest,
  joinAcceptMICInput11,
  joinNonce,
  joinRequestMICInput,
  parseDevAddr,
  parseNetID,
} from '@joinery/core';
import { BENCH_JOIN_EUI, benchDevEUI, type BenchMACVersion } from './bench-devices';

/**
 * The crypto floor: the cryptography of one join and nothing else, in a loop on one core: the
 * join-request MIC checked, the session keys derived, the join-accept MIC'd and encrypted, the
 * network session keys wrapped under the network server's KEK (RFC 3394). Keys in clear, no
 * vault, no I/O: what a join cannot cost less than.
 */
export function cryptoFloor(macVersion: BenchMACVersion, seconds: number): { perSecond: number } {
  const { join: one, request } = joinCrypto(macVersion);
  // The device's join-request is built inside the loop too, so it is subtracted: timed alone below.
  const joins = loop(one, seconds);
  const requestsOnly = loop(request, Math.max(0.2, seconds / 4));
  const perJoin = 1 / joins - 1 / requestsOnly;
  return { perSecond: 1 / perJoin };
}

/**
 * The cryptography of one join (`join`: the device's join-request built, then everything the
 * Join Server computes) and of the join-request alone (`request`), with a fresh DevNonce and
 * JoinNonce each call.
 */
export function joinCrypto(macVersion: BenchMACVersion): { join: () => void; request: () => void } {
  const root = AES128Key.fromBytes(randomBytes(16));
  const appKey = AES128Key.fromBytes(randomBytes(16));
  const kek = randomBytes(16);
  const devEUI = benchDevEUI(1);
  const netID = parseNetID('000013');
  const devAddr = parseDevAddr('26011234');
  let n = 0;
  const join = (): void => {
    const dn = devNonce(n & 0xffff);
    const phy = encodeJoinRequest({ joinEUI: BENCH_JOIN_EUI, devEUI, devNonce: dn }, root);
    const frame = decodeJoinRequest(phy);
    if (!aesCmac(root, joinRequestMICInput(phy)).subarray(0, 4).equals(frame.mic)) throw new Error('crypto floor: MIC mismatch');
    const jn = joinNonce((n % 0xffffff) + 1);
    if (macVersion === '1.0.3') {
      const plain = encodeJoinAcceptPlain({ joinNonce: jn, netID, devAddr, dlSettings: 0, rxDelay: 1 });
      const mic = aesCmac(root, plain).subarray(0, 4);
      const keys = deriveSessionKeys10(root, jn, netID, dn);
      aesDecryptECB(root, Buffer.concat([plain.subarray(1), mic]));
      aesKeyWrap(kek, keys.nwkSKey.unsafeBytes());
    } else {
      const plain = encodeJoinAcceptPlain({ joinNonce: jn, netID, devAddr, dlSettings: DL_SETTINGS_OPT_NEG, rxDelay: 1 });
      const jsIntKey = deriveJSIntKey(root, devEUI);
      const mic = aesCmac(jsIntKey, joinAcceptMICInput11(0xff, BENCH_JOIN_EUI, dn, plain)).subarray(0, 4);
      const keys = deriveSessionKeys11(root, appKey, jn, BENCH_JOIN_EUI, dn);
      aesDecryptECB(root, Buffer.concat([plain.subarray(1), mic]));
      for (const k of [keys.fNwkSIntKey, keys.sNwkSIntKey, keys.nwkSEncKey]) aesKeyWrap(kek, k.unsafeBytes());
    }
    n++;
  };
  const request = (): void => {
    encodeJoinRequest({ joinEUI: BENCH_JOIN_EUI, devEUI, devNonce: devNonce(n++ & 0xffff) }, root);
  };
  return { join, request };
}

/** Calls of `fn` per second over about `seconds` (after a short warm-up). */
function loop(fn: () => void, seconds: number): number {
  const warmEnd = performance.now() + Math.min(200, seconds * 200);
  while (performance.now() < warmEnd) fn();
  let calls = 0;
  const started = performance.now();
  const end = started + seconds * 1000;
  while (performance.now() < end) {
    for (let i = 0; i < 100; i++) fn();
    calls += 100;
  }
  return calls / ((performance.now() - started) / 1000);
}
