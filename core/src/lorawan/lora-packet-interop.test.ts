import { createHash } from 'node:crypto';
import lp from 'lora-packet';
import { AES128Key } from './aes128-key';
import { aesCmac } from './cmac';
import { deriveJSEncKey, deriveJSIntKey, deriveSessionKeys10, deriveSessionKeys11 } from './derivation';
import { eui64FromLE, netIDFromLE, devAddrFromLE, type DevAddr, type EUI64, type NetID } from './identifiers';
import { DL_SETTINGS_OPT_NEG, buildJoinAccept10, buildJoinAccept11, type JoinAcceptFields } from './join-accept';
import { decodeJoinRequest, encodeJoinRequest, joinRequestMICInput } from './join-request';
import { devNonce, joinNonce, type DevNonce, type JoinNonce } from './nonces';
import { decodeRejoinRequest, encodeRejoinRequest } from './rejoin-request';

/**
 * Cross-checks against lora-packet (an independent implementation, used here the way a device
 * or a network server would use it). lora-packet takes EUIs, NetID, DevAddr and nonces as
 * big-endian Buffers (display order) and reverses them itself, and returns them the same way.
 *
 * What lora-packet cannot check, and is therefore not checked here:
 * - it cannot build rejoin-requests (fromFields has no rejoin MType), so rejoin frames are
 *   only checked in one direction: ours, parsed and MIC-verified by lora-packet;
 * - it parses RJcount1 of a type 1 rejoin-request from the wrong offset (bytes 13..14 instead
 *   of 18..19; lora-packet 0.9.3, PACKET_STRUCTURES.REJOIN_TYPE_2), so that one field is not
 *   compared (its MIC is over the raw bytes, so the MIC check still holds);
 * - it has no notion of the "1.1 device answered with OptNeg off" rule (1.0 derivations rooted
 *   in NwkKey): that case is checked as generateSessionKeys10 with the NwkKey, which is what
 *   the rule means but not something lora-packet decides on its own.
 *
 * Inputs are pseudo-random but seeded (sha256 of a label and a counter), so a failure names
 * the iteration and reproduces.
 */

const ITERATIONS = 40;

function seededBytes(seed: string): (n: number) => Buffer {
  let counter = 0;
  return (n) => {
    const out: Buffer[] = [];
    let have = 0;
    while (have < n) {
      const block = createHash('sha256').update(`${seed}/${counter++}`).digest();
      out.push(block);
      have += block.length;
    }
    return Buffer.concat(out).subarray(0, n);
  };
}

interface Device {
  readonly rawAppKey: Buffer;
  readonly rawNwkKey: Buffer;
  readonly appKey: AES128Key;
  readonly nwkKey: AES128Key;
  readonly joinEUI: EUI64;
  readonly devEUI: EUI64;
  readonly devNonce: DevNonce;
  readonly joinNonce: JoinNonce;
  readonly netID: NetID;
  readonly devAddr: DevAddr;
  readonly cfList: Buffer;
  readonly dlSettings: number;
  readonly rxDelay: number;
}

function device(label: string, i: number): Device {
  const rnd = seededBytes(`${label}/${i}`);
  const rawAppKey = rnd(16);
  const rawNwkKey = rnd(16);
  return {
    rawAppKey,
    rawNwkKey,
    appKey: AES128Key.fromBytes(rawAppKey),
    nwkKey: AES128Key.fromBytes(rawNwkKey),
    joinEUI: eui64FromLE(rnd(8)),
    devEUI: eui64FromLE(rnd(8)),
    devNonce: devNonce(rnd(2).readUInt16BE(0)),
    joinNonce: joinNonce(rnd(3).readUIntBE(0, 3)),
    netID: netIDFromLE(rnd(3)),
    devAddr: devAddrFromLE(rnd(4)),
    cfList: rnd(16),
    // Nonzero DLSettings and RxDelay (lora-packet treats 0 as "use the default 0", which is the same).
    dlSettings: (rnd(1)[0]! & 0x7f) | 0x01,
    rxDelay: (rnd(1)[0]! & 0x0f) | 0x01,
  };
}

/** Big-endian Buffers, as lora-packet wants them. */
const be = {
  eui: (eui: EUI64): Buffer => Buffer.from(eui, 'hex'),
  netID: (netID: NetID): Buffer => Buffer.from(netID, 'hex'),
  devAddr: (devAddr: DevAddr): Buffer => Buffer.from(devAddr, 'hex'),
  devNonce: (n: DevNonce): Buffer => {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(n, 0);
    return b;
  },
  joinNonce: (n: JoinNonce): Buffer => {
    const b = Buffer.alloc(3);
    b.writeUIntBE(n, 0, 3);
    return b;
  },
};

function fieldsOf(d: Device, withCFList: boolean, optNeg: boolean): JoinAcceptFields {
  return {
    joinNonce: d.joinNonce,
    netID: d.netID,
    devAddr: d.devAddr,
    dlSettings: optNeg ? d.dlSettings | DL_SETTINGS_OPT_NEG : d.dlSettings,
    rxDelay: d.rxDelay,
    ...(withCFList ? { cfList: d.cfList } : {}),
  };
}

const phyOf = (packet: ReturnType<typeof lp.fromWire>): Buffer => {
  const phy = packet.getPHYPayload();
  if (!phy) throw new Error('lora-packet returned no PHYPayload');
  return phy;
};

/** What a device does with a join-accept in lora-packet: decrypt it, parse the plaintext. */
function deviceReceives(phy: Buffer, decryptionKey: Buffer): ReturnType<typeof lp.fromWire> {
  const plain = lp.decryptJoinAccept(lp.fromWire(phy), decryptionKey);
  return lp.fromWire(plain);
}

function expectFieldsParsed(packet: ReturnType<typeof lp.fromWire>, fields: JoinAcceptFields): void {
  expect(packet.isJoinAcceptMessage()).toBe(true);
  expect(packet.AppNonce?.toString('hex')).toBe(be.joinNonce(fields.joinNonce).toString('hex'));
  expect(packet.NetID?.toString('hex')).toBe(fields.netID);
  expect(packet.DevAddr?.toString('hex')).toBe(fields.devAddr);
  expect(packet.DLSettings?.[0]).toBe(fields.dlSettings);
  expect(packet.RxDelay?.[0]).toBe(fields.rxDelay);
  expect(packet.CFList?.toString('hex')).toBe(fields.cfList?.toString('hex') ?? '');
}

const iterations = Array.from({ length: ITERATIONS }, (_, i) => i);

describe('lora-packet interop', () => {
  test.each(iterations)('lora-packet/join-request built by lora-packet decodes here, same MIC (#%d)', (i) => {
    const d = device('jr', i);
    for (const rootKey of [d.rawAppKey, d.rawNwkKey]) {
      const packet = lp.fromFields({ MType: 'Join Request', AppEUI: be.eui(d.joinEUI), DevEUI: be.eui(d.devEUI), DevNonce: be.devNonce(d.devNonce) }, undefined, undefined, rootKey);
      const phy = phyOf(packet);
      const decoded = decodeJoinRequest(phy);
      expect(decoded.joinEUI).toBe(d.joinEUI);
      expect(decoded.devEUI).toBe(d.devEUI);
      expect(decoded.devNonce).toBe(d.devNonce);
      const key = AES128Key.fromBytes(rootKey);
      expect(aesCmac(key, joinRequestMICInput(phy)).subarray(0, 4).toString('hex')).toBe(decoded.mic.toString('hex'));
      // And the other way: our frame is byte-identical and verifies in lora-packet.
      const ours = encodeJoinRequest({ joinEUI: d.joinEUI, devEUI: d.devEUI, devNonce: d.devNonce }, key);
      expect(ours.toString('hex')).toBe(phy.toString('hex'));
      expect(lp.verifyMIC(lp.fromWire(ours), undefined, rootKey)).toBe(true);
    }
  });

  test.each(iterations)('lora-packet/1.0 join-accept built here decrypts and verifies in lora-packet (#%d)', (i) => {
    const d = device('ja10', i);
    for (const withCFList of [false, true]) {
      const fields = fieldsOf(d, withCFList, false);
      const phy = buildJoinAccept10(d.appKey, fields);
      const received = deviceReceives(phy, d.rawAppKey);
      expectFieldsParsed(received, fields);
      expect(received.getDLSettingsOptNeg()).toBe(false);
      expect(lp.verifyMIC(received, undefined, d.rawAppKey)).toBe(true);
      expect(lp.verifyMIC(received, undefined, d.rawNwkKey)).toBe(false);
      // lora-packet can build the same frame: it must be byte-identical.
      const theirs = lp.fromFields(
        {
          MType: 'Join Accept',
          AppNonce: be.joinNonce(fields.joinNonce),
          NetID: be.netID(fields.netID),
          DevAddr: be.devAddr(fields.devAddr),
          DLSettings: fields.dlSettings,
          RxDelay: fields.rxDelay,
          ...(fields.cfList ? { CFList: fields.cfList } : {}),
        },
        undefined,
        undefined,
        d.rawAppKey,
      );
      expect(phyOf(theirs).toString('hex')).toBe(phy.toString('hex'));
    }
  });

  test.each(iterations)('lora-packet/1.1 OptNeg join-accept built here decrypts and verifies in lora-packet (#%d)', (i) => {
    const d = device('ja11', i);
    const jsIntKey = deriveJSIntKey(d.nwkKey, d.devEUI);
    const jsEncKey = deriveJSEncKey(d.nwkKey, d.devEUI);
    // Answering a join-request (JoinReqType 0xFF, encrypted with NwkKey) and each rejoin type
    // (encrypted with JSEncKey; the rejoin counter goes where DevNonce is).
    const cases = [
      { joinReqType: 0xff, encKey: d.nwkKey, rawEncKey: d.rawNwkKey },
      { joinReqType: 0x00, encKey: jsEncKey, rawEncKey: jsEncKey.unsafeBytes() },
      { joinReqType: 0x01, encKey: jsEncKey, rawEncKey: jsEncKey.unsafeBytes() },
      { joinReqType: 0x02, encKey: jsEncKey, rawEncKey: jsEncKey.unsafeBytes() },
    ];
    for (const withCFList of [false, true]) {
      for (const { joinReqType, encKey, rawEncKey } of cases) {
        const fields = fieldsOf(d, withCFList, true);
        const phy = buildJoinAccept11(jsIntKey, encKey, joinReqType, d.joinEUI, d.devNonce, fields);
        const received = deviceReceives(phy, rawEncKey);
        expectFieldsParsed(received, fields);
        expect(received.getDLSettingsOptNeg()).toBe(true);
        // lora-packet's 1.1 join-accept MIC needs what the device knows besides the frame:
        // JoinReqType, JoinEUI and DevNonce (big-endian), and takes the MIC key (JSIntKey) as
        // its "NwkSKey" argument.
        received.JoinReqType = Buffer.of(joinReqType);
        received.JoinEUI = be.eui(d.joinEUI);
        received.DevNonce = be.devNonce(d.devNonce);
        expect(lp.verifyMIC(received, jsIntKey.unsafeBytes())).toBe(true);
        expect(lp.verifyMIC(received, d.rawNwkKey)).toBe(false);
        // lora-packet builds the same frame (MIC key as NwkSKey, encryption key as AppKey).
        const theirs = lp.fromFields(
          {
            MType: 'Join Accept',
            AppNonce: be.joinNonce(fields.joinNonce),
            NetID: be.netID(fields.netID),
            DevAddr: be.devAddr(fields.devAddr),
            DLSettings: fields.dlSettings,
            RxDelay: fields.rxDelay,
            // A Buffer, not a number: lora-packet reads a numeric JoinReqType 0 as "absent" (0xFF).
            JoinReqType: Buffer.of(joinReqType),
            AppEUI: be.eui(d.joinEUI),
            DevNonce: be.devNonce(d.devNonce),
            ...(fields.cfList ? { CFList: fields.cfList } : {}),
          },
          undefined,
          jsIntKey.unsafeBytes(),
          rawEncKey,
        );
        expect(phyOf(theirs).toString('hex')).toBe(phy.toString('hex'));
      }
    }
  });

  test.each(iterations)("lora-packet/session and JS keys equal lora-packet's (#%d)", (i) => {
    const d = device('keys', i);
    const k10 = deriveSessionKeys10(d.appKey, d.joinNonce, d.netID, d.devNonce);
    const lp10 = lp.generateSessionKeys10(d.rawAppKey, be.netID(d.netID), be.joinNonce(d.joinNonce), be.devNonce(d.devNonce));
    expect(k10.nwkSKey.unsafeBytes().toString('hex')).toBe(lp10.NwkSKey.toString('hex'));
    expect(k10.appSKey.unsafeBytes().toString('hex')).toBe(lp10.AppSKey.toString('hex'));

    // 1.1 device answered with OptNeg off: 1.0 derivations rooted in NwkKey.
    const k10n = deriveSessionKeys10(d.nwkKey, d.joinNonce, d.netID, d.devNonce);
    const lp10n = lp.generateSessionKeys10(d.rawNwkKey, be.netID(d.netID), be.joinNonce(d.joinNonce), be.devNonce(d.devNonce));
    expect(k10n.nwkSKey.unsafeBytes().toString('hex')).toBe(lp10n.NwkSKey.toString('hex'));
    expect(k10n.appSKey.unsafeBytes().toString('hex')).toBe(lp10n.AppSKey.toString('hex'));

    const k11 = deriveSessionKeys11(d.nwkKey, d.appKey, d.joinNonce, d.joinEUI, d.devNonce);
    const lp11 = lp.generateSessionKeys11(d.rawAppKey, d.rawNwkKey, be.eui(d.joinEUI), be.joinNonce(d.joinNonce), be.devNonce(d.devNonce));
    expect(k11.fNwkSIntKey.unsafeBytes().toString('hex')).toBe(lp11.FNwkSIntKey.toString('hex'));
    expect(k11.sNwkSIntKey.unsafeBytes().toString('hex')).toBe(lp11.SNwkSIntKey.toString('hex'));
    expect(k11.nwkSEncKey.unsafeBytes().toString('hex')).toBe(lp11.NwkSEncKey.toString('hex'));
    expect(k11.appSKey.unsafeBytes().toString('hex')).toBe(lp11.AppSKey.toString('hex'));

    const js = lp.generateJSKeys(d.rawNwkKey, be.eui(d.devEUI));
    expect(deriveJSIntKey(d.nwkKey, d.devEUI).unsafeBytes().toString('hex')).toBe(js.JSIntKey.toString('hex'));
    expect(deriveJSEncKey(d.nwkKey, d.devEUI).unsafeBytes().toString('hex')).toBe(js.JSEncKey.toString('hex'));
  });

  test.each(iterations)('lora-packet/rejoin-requests built here parse and verify in lora-packet (#%d)', (i) => {
    const d = device('rj', i);
    const jsIntKey = deriveJSIntKey(d.nwkKey, d.devEUI);
    const sNwkSIntKey = deriveSessionKeys11(d.nwkKey, d.appKey, d.joinNonce, d.joinEUI, d.devNonce).sNwkSIntKey;

    const t1 = encodeRejoinRequest({ rejoinType: 1, joinEUI: d.joinEUI, devEUI: d.devEUI, rjCount1: d.devNonce }, jsIntKey);
    const p1 = lp.fromWire(t1);
    expect(p1.isRejoinRequestMessage()).toBe(true);
    expect(p1.RejoinType?.[0]).toBe(1);
    expect(p1.JoinEUI?.toString('hex')).toBe(d.joinEUI);
    expect(p1.DevEUI?.toString('hex')).toBe(d.devEUI);
    // (RJCount1 not compared: lora-packet reads it from the wrong offset, see above.)
    expect(lp.verifyMIC(p1, undefined, jsIntKey.unsafeBytes())).toBe(true);
    expect(lp.verifyMIC(p1, undefined, d.rawNwkKey)).toBe(false);
    expect(decodeRejoinRequest(t1)).toEqual({ rejoinType: 1, joinEUI: d.joinEUI, devEUI: d.devEUI, rjCount1: d.devNonce, mic: p1.MIC });

    for (const rejoinType of [0, 2] as const) {
      const t = encodeRejoinRequest({ rejoinType, netID: d.netID, devEUI: d.devEUI, rjCount0: d.devNonce }, sNwkSIntKey);
      const p = lp.fromWire(t);
      expect(p.RejoinType?.[0]).toBe(rejoinType);
      expect(p.NetID?.toString('hex')).toBe(d.netID);
      expect(p.DevEUI?.toString('hex')).toBe(d.devEUI);
      expect(p.RJCount0?.toString('hex')).toBe(be.devNonce(d.devNonce).toString('hex'));
      expect(lp.verifyMIC(p, sNwkSIntKey.unsafeBytes())).toBe(true);
      expect(lp.verifyMIC(p, d.rawNwkKey)).toBe(false);
    }
  });
});
