import { randomBytes } from 'node:crypto';
import lora from 'lora-packet';
import { deviceAcceptsJoinNonce } from '../../../core/src/lorawan/device-join-nonce-rule';
import { parseMACVersion } from '../../../core/src/lorawan/mac-version';

/**
 * A LoRaWAN device built on lora-packet, an implementation independent of Joinery's: it makes
 * join-requests and checks join-accepts the way a device would. Identifiers are big-endian hex
 * as displayed.
 */
export interface DeviceKeys {
  readonly devEUI: string;
  readonly joinEUI: string;
  readonly macVersion: string;
  readonly appKey: string;
  /** 1.1 only. */
  readonly nwkKey?: string;
}

export function randomKey(): string {
  return randomBytes(16).toString('hex');
}

export function nonceBytes(devNonce: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(devNonce);
  return b;
}

/** A join-request PHYPayload, MIC'd as the device does (NwkKey for 1.1, AppKey for 1.0.x). */
export function joinRequest(device: DeviceKeys, devNonce: number): Buffer {
  const micKey = Buffer.from(device.nwkKey ?? device.appKey, 'hex');
  const packet = lora.fromFields(
    {
      MType: 'Join Request',
      AppEUI: Buffer.from(device.joinEUI, 'hex'),
      DevEUI: Buffer.from(device.devEUI, 'hex'),
      DevNonce: nonceBytes(devNonce),
    },
    undefined,
    undefined,
    micKey,
  );
  return packet.getPHYPayload()!;
}

export interface AcceptedJoin {
  readonly micValid: boolean;
  readonly joinNonce: number;
  readonly netID: string;
  readonly devAddr: string;
  readonly dlSettings: number;
  readonly rxDelay: number;
  readonly cfList: string;
  readonly optNeg: boolean;
  /** Session keys as the device derives them, hex. */
  readonly keys: Record<string, string>;
}

/**
 * The JoinNonce each simulated device stored: what the device keeps in non-volatile memory, zero
 * at power on (a device this process has not seen). A device is its DevEUI and its root keys: a
 * test that makes another device with the same DevEUI and new keys gets a fresh one. A test that
 * plays a device factory-reset calls `powerOn` first.
 */
const storedJoinNonces = new Map<string, number>();

function deviceIdentity(device: Pick<DeviceKeys, 'devEUI' | 'appKey' | 'nwkKey'>): string {
  return `${device.devEUI.toLowerCase()}:${device.appKey.toLowerCase()}:${(device.nwkKey ?? '').toLowerCase()}`;
}

/** The device starts from nothing: its stored JoinNonce is zero again. */
export function powerOn(device: Pick<DeviceKeys, 'devEUI' | 'appKey' | 'nwkKey'>): void {
  storedJoinNonces.delete(deviceIdentity(device));
}

/**
 * Decrypts a join-accept and checks its MIC and derives the session keys, all with lora-packet.
 * `joinReqType` 0xFF answers a join-request (`devNonce` its DevNonce); 0, 1 or 2 a rejoin-request
 * of that type (`devNonce` its RJcount), encrypted with JSEncKey. A join-accept whose MIC
 * verifies is then checked as the device checks its JoinNonce (device-join-nonce-rule.ts): one
 * the device would drop throws, one it keeps becomes its stored JoinNonce.
 */
export function acceptJoin(device: DeviceKeys, devNonce: number, phyPayloadHex: string, joinReqType = 0xff): AcceptedJoin {
  const v11 = device.nwkKey !== undefined;
  const rootKey = Buffer.from(device.nwkKey ?? device.appKey, 'hex');
  const encKey = joinReqType === 0xff ? rootKey : lora.generateJSKeys(rootKey, Buffer.from(device.devEUI, 'hex')).JSEncKey;
  const plain = lora.decryptJoinAccept(lora.fromWire(Buffer.from(phyPayloadHex, 'hex')), encKey);
  const packet = lora.fromWire(plain);
  const optNeg = v11 && packet.getDLSettingsOptNeg() === true;
  const joinNonceBE = packet.AppNonce!;
  const netID = packet.NetID!;
  let micValid: boolean;
  let keys: Record<string, string>;
  if (optNeg) {
    const { JSIntKey } = lora.generateJSKeys(rootKey, Buffer.from(device.devEUI, 'hex'));
    packet.JoinReqType = Buffer.of(joinReqType);
    packet.JoinEUI = Buffer.from(device.joinEUI, 'hex');
    packet.DevNonce = nonceBytes(devNonce);
    micValid = lora.verifyMIC(packet, JSIntKey);
    const k = lora.generateSessionKeys11(Buffer.from(device.appKey, 'hex'), rootKey, Buffer.from(device.joinEUI, 'hex'), joinNonceBE, nonceBytes(devNonce));
    keys = { FNwkSIntKey: hex(k.FNwkSIntKey), SNwkSIntKey: hex(k.SNwkSIntKey), NwkSEncKey: hex(k.NwkSEncKey), AppSKey: hex(k.AppSKey) };
  } else {
    micValid = lora.verifyMIC(packet, undefined, rootKey);
    const k = lora.generateSessionKeys10(rootKey, netID, joinNonceBE, nonceBytes(devNonce));
    keys = { NwkSKey: hex(k.NwkSKey), AppSKey: hex(k.AppSKey) };
  }
  const joinNonce = joinNonceBE.readUIntBE(0, 3);
  if (micValid) {
    const verdict = deviceAcceptsJoinNonce(parseMACVersion(device.macVersion), storedJoinNonces.get(deviceIdentity(device)) ?? 0, joinNonce);
    if (!verdict.accepted) throw new Error(`${device.devEUI}: ${verdict.reason}`);
    storedJoinNonces.set(deviceIdentity(device), joinNonce);
  }
  return {
    micValid,
    joinNonce,
    netID: hex(netID),
    devAddr: hex(packet.DevAddr!),
    dlSettings: packet.DLSettings!.readUInt8(0),
    rxDelay: packet.RxDelay!.readUInt8(0),
    cfList: hex(packet.CFList ?? Buffer.alloc(0)),
    optNeg,
    keys,
  };
}

/**
 * A LoRaWAN 1.1 rejoin-request as the device sends it. lora-packet cannot build one from fields,
 * so the frame is laid out here (little-endian fields) and lora-packet computes its MIC: type 1
 * with JSIntKey (derived by lora-packet from NwkKey), types 0/2 with the session's SNwkSIntKey.
 */
export function rejoinRequest(device: DeviceKeys, rejoinType: 0 | 1 | 2, rjCount: number, opts: { netID?: string; sNwkSIntKey?: string } = {}): Buffer {
  const le = (h: string): Buffer => Buffer.from(h, 'hex').reverse();
  const count = Buffer.alloc(2);
  count.writeUInt16LE(rjCount);
  const body = rejoinType === 1 ? Buffer.concat([Buffer.of(0xc0, 1), le(device.joinEUI), le(device.devEUI), count]) : Buffer.concat([Buffer.of(0xc0, rejoinType), le(opts.netID ?? '000000'), le(device.devEUI), count]);
  const packet = lora.fromWire(Buffer.concat([body, Buffer.alloc(4)]));
  const key = rejoinType === 1 ? lora.generateJSKeys(Buffer.from(device.nwkKey!, 'hex'), Buffer.from(device.devEUI, 'hex')).JSIntKey : undefined;
  const mic = rejoinType === 1 ? lora.calculateMIC(packet, undefined, key) : lora.calculateMIC(packet, Buffer.from(opts.sNwkSIntKey ?? randomKey(), 'hex'));
  return Buffer.concat([body, mic]);
}

function hex(b: Buffer): string {
  return b.toString('hex');
}
