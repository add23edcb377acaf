import type { DeviceKeys } from '../support/lora-device';
import { aesCmac, aesEncryptBlock } from './cmac';

/**
 * LoRaWAN frames as a hostile network server forwards them, laid out here byte by byte
 * (little-endian fields on air) so that any of them can be cut, padded or bent; and the guard
 * that keeps a forged frame for a real device from ever being a valid one.
 */

export const JOIN_REQUEST_SIZE = 23;
export const REJOIN_1_SIZE = 24;
export const REJOIN_0_2_SIZE = 19;

export function le(hexBE: string): Buffer {
  return Buffer.from(hexBE, 'hex').reverse();
}

export function u16le(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n & 0xffff);
  return b;
}

/** The key a device MICs its join-request with: NwkKey (1.1) or AppKey (1.0.x). */
export function joinMICKey(d: DeviceKeys): Buffer {
  return Buffer.from(d.nwkKey ?? d.appKey, 'hex');
}

/** JSIntKey = aes128_encrypt(NwkKey, 0x06 | DevEUI | pad16) (LoRaWAN 1.1, 6.2.2). */
export function jsIntKey(d: DeviceKeys): Buffer {
  const block = Buffer.alloc(16);
  block[0] = 0x06;
  le(d.devEUI).copy(block, 1);
  return aesEncryptBlock(joinMICKey(d), block);
}

function mic(key: Buffer, covered: Buffer): Buffer {
  return aesCmac(key, covered).subarray(0, 4);
}

/** MHDR 0x00 | JoinEUI | DevEUI | DevNonce | MIC, the MIC right (micXor 0) or bent by micXor. */
export function joinRequestFrame(d: DeviceKeys, devNonce: number, micXor = 0): Buffer {
  const covered = Buffer.concat([Buffer.of(0x00), le(d.joinEUI), le(d.devEUI), u16le(devNonce)]);
  const m = mic(joinMICKey(d), covered);
  m.writeUInt32BE((m.readUInt32BE(0) ^ micXor) >>> 0);
  return Buffer.concat([covered, m]);
}

/** Rejoin type 1: MHDR 0xC0 | 1 | JoinEUI | DevEUI | RJcount1 | MIC (JSIntKey), bent by micXor. */
export function rejoin1Frame(d: DeviceKeys, rjCount1: number, micXor = 0): Buffer {
  const covered = Buffer.concat([Buffer.of(0xc0, 1), le(d.joinEUI), le(d.devEUI), u16le(rjCount1)]);
  const m = mic(jsIntKey(d), covered);
  m.writeUInt32BE((m.readUInt32BE(0) ^ micXor) >>> 0);
  return Buffer.concat([covered, m]);
}

/** Rejoin type 0 or 2: MHDR 0xC0 | type | NetID | DevEUI | RJcount0 | MIC (not the Join Server's to check). */
export function rejoin02Frame(rejoinType: 0 | 2, netID: Buffer, devEUI: string, rjCount0: number, micBytes: Buffer): Buffer {
  return Buffer.concat([Buffer.of(0xc0, rejoinType), netID.subarray(0, 3), le(devEUI), u16le(rjCount0), micBytes.subarray(0, 4)]);
}

/** A device the Join Server really has, as the fuzzer knows it. */
export interface RealDevice extends DeviceKeys {
  /** The network server (peer name) it is bound to. */
  readonly ns: string;
  /** DevNonce is a counter (1.0.4, 1.1): every value up to lastDevNonce is a replay. */
  readonly counter: boolean;
  readonly lastDevNonce: number;
  /** 1.0.0-1.0.3: the DevNonces it has used (a replay of any is refused). */
  readonly usedDevNonces: readonly number[];
}

/** Whether the Join Server must refuse this DevNonce of this device as a replay. */
export function isReplay(d: RealDevice, devNonce: number): boolean {
  return d.counter ? devNonce <= d.lastDevNonce : d.usedDevNonces.includes(devNonce);
}

/**
 * The guard: the fuzzer's inputs are all bad, by construction. A frame sent with the
 * certificate of `peer` that a correct Join Server could accept for one of `devices` (a
 * join-request with its right MIC and a fresh DevNonce, a rejoin type 1 with its right MIC, a
 * rejoin type 0/2, whose MIC the network server checks, for a device bound to that peer) gets
 * its MIC bent (or its DevEUI, for type 0/2): a copy is returned, the input is not touched.
 */
export function defuse(frame: Buffer, peer: string, devices: readonly RealDevice[]): Buffer {
  let out = frame;
  for (let i = 0; i < 8; i++) {
    const at = acceptableAt(out, peer, devices);
    if (at === undefined) return out;
    out = Buffer.from(out);
    out[at] = out[at]! ^ 0xa5;
  }
  throw new Error(`cannot defuse ${frame.toString('hex')}`);
}

/** Where to bend `frame` so no device bound to `peer` accepts it; undefined when none would. */
function acceptableAt(frame: Buffer, peer: string, devices: readonly RealDevice[]): number | undefined {
  const b0 = frame[0];
  if (b0 === undefined || (b0 & 0b11) !== 0) return undefined; // Major must be 00 to be accepted at all
  const mType = b0 >>> 5;
  for (const d of devices) {
    if (d.ns !== peer) continue;
    if (mType === 0 && frame.length === JOIN_REQUEST_SIZE && frame.subarray(9, 17).equals(le(d.devEUI))) {
      const devNonce = frame.readUInt16LE(17);
      if (!isReplay(d, devNonce) && mic(joinMICKey(d), frame.subarray(0, 19)).equals(frame.subarray(19, 23))) return 22;
    } else if (mType === 6 && frame[1] === 1 && frame.length === REJOIN_1_SIZE && frame.subarray(10, 18).equals(le(d.devEUI))) {
      if (mic(jsIntKey(d), frame.subarray(0, 20)).equals(frame.subarray(20, 24))) return 23;
    } else if (mType === 6 && (frame[1] === 0 || frame[1] === 2) && frame.length === REJOIN_0_2_SIZE && frame.subarray(5, 13).equals(le(d.devEUI))) {
      return 12; // the DevEUI's first (big-endian) byte: another device, unknown
    }
  }
  return undefined;
}
