import { randomBytes } from 'node:crypto';
import lora from 'lora-packet';

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

/** Decrypts a join-accept and checks its MIC and derives the session keys, all with lora-packet. */
export function acceptJoin(device: DeviceKeys, devNonce: number, phyPayloadHex: string): AcceptedJoin {
  const v11 = device.nwkKey !== undefined;
  const encKey = Buffer.from(device.nwkKey ?? device.appKey, 'hex');
  const plain = lora.decryptJoinAccept(lora.fromWire(Buffer.from(phyPayloadHex, 'hex')), encKey);
  const packet = lora.fromWire(plain);
  const optNeg = v11 && packet.getDLSettingsOptNeg() === true;
  const joinNonceBE = packet.AppNonce!;
  const netID = packet.NetID!;
  let micValid: boolean;
  let keys: Record<string, string>;
  if (optNeg) {
    const { JSIntKey } = lora.generateJSKeys(encKey, Buffer.from(device.devEUI, 'hex'));
    packet.JoinReqType = Buffer.of(0xff);
    packet.JoinEUI = Buffer.from(device.joinEUI, 'hex');
    packet.DevNonce = nonceBytes(devNonce);
    micValid = lora.verifyMIC(packet, JSIntKey);
    const k = lora.generateSessionKeys11(Buffer.from(device.appKey, 'hex'), encKey, Buffer.from(device.joinEUI, 'hex'), joinNonceBE, nonceBytes(devNonce));
    keys = { FNwkSIntKey: hex(k.FNwkSIntKey), SNwkSIntKey: hex(k.SNwkSIntKey), NwkSEncKey: hex(k.NwkSEncKey), AppSKey: hex(k.AppSKey) };
  } else {
    micValid = lora.verifyMIC(packet, undefined, encKey);
    const k = lora.generateSessionKeys10(encKey, netID, joinNonceBE, nonceBytes(devNonce));
    keys = { NwkSKey: hex(k.NwkSKey), AppSKey: hex(k.AppSKey) };
  }
  return {
    micValid,
    joinNonce: joinNonceBE.readUIntBE(0, 3),
    netID: hex(netID),
    devAddr: hex(packet.DevAddr!),
    dlSettings: packet.DLSettings!.readUInt8(0),
    rxDelay: packet.RxDelay!.readUInt8(0),
    cfList: hex(packet.CFList ?? Buffer.alloc(0)),
    optNeg,
    keys,
  };
}

function hex(b: Buffer): string {
  return b.toString('hex');
}
