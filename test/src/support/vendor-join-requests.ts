import { randomInt } from 'node:crypto';
import { acceptJoin, type DeviceKeys } from './lora-device';
import { openEnvelope } from './network-server';

/**
 * One JoinReq exactly as each vendor's network server sends it (shapes from their source and
 * traces; docs/network-servers.md), and the answer that vendor accepts: the keys it reads for the MAC
 * version, AppSKey and SessionKeyID as its dialect needs, the labels it knows, and no nulls.
 * The in-process table (core/src/backend-interfaces/join-req.test.ts) runs every one; the
 * end-to-end smoke test (test/src/e2e/vendor-dialects.test.ts) one per dialect.
 */
export interface VendorJoinRequest {
  readonly name: string;
  readonly vendor: string;
  readonly netID: string;
  readonly nsID?: string;
  readonly macVersion: string;
  /** Bind the device to an application server too (end-to-end AppSKey). */
  readonly withAS?: boolean;
  /** The request as that vendor sends it. */
  readonly request: (d: DeviceKeys, phy: string) => Record<string, unknown>;
  readonly expectKeys: readonly string[];
  readonly absentKeys: readonly string[];
  readonly appSKey: 'clear' | 'ns' | 'as';
  readonly sessionKeyID: boolean;
}

const randomTxID = () => randomInt(1, 2 ** 32 - 1);
const NET_11 = ['FNwkSIntKey', 'SNwkSIntKey', 'NwkSEncKey'];

export const VENDOR_JOIN_REQUESTS: readonly VendorJoinRequest[] = [
  {
    name: 'ChirpStack v4, LoRaWAN 1.0.3 (lower case, random TransactionID)',
    vendor: 'chirpstack',
    netID: '000013',
    macVersion: '1.0.3',
    request: (d, phy) => ({
      ProtocolVersion: '1.0',
      SenderID: '000013',
      ReceiverID: d.joinEUI,
      TransactionID: randomTxID(),
      MessageType: 'JoinReq',
      MACVersion: '1.0.3',
      PHYPayload: phy,
      DevEUI: d.devEUI,
      DevAddr: '00a1b2c3',
      DLSettings: '00',
      RxDelay: 1,
    }),
    expectKeys: ['NwkSKey', 'AppSKey'],
    absentKeys: ['SessionKeyID', ...NET_11],
    appSKey: 'clear',
    sessionKeyID: false,
  },
  {
    name: 'ChirpStack v4, LoRaWAN 1.1 (MACVersion 1.1.0, OptNeg set)',
    vendor: 'chirpstack',
    netID: '000013',
    macVersion: '1.1',
    request: (d, phy) => ({
      ProtocolVersion: '1.0',
      SenderID: '000013',
      ReceiverID: d.joinEUI,
      TransactionID: randomTxID(),
      MessageType: 'JoinReq',
      MACVersion: '1.1.0',
      PHYPayload: phy,
      DevEUI: d.devEUI,
      DevAddr: '00a1b2c4',
      DLSettings: '80',
      RxDelay: 1,
    }),
    expectKeys: [...NET_11, 'AppSKey'],
    absentKeys: ['NwkSKey', 'SessionKeyID'],
    appSKey: 'clear',
    sessionKeyID: false,
  },
  {
    name: 'ChirpStack v4, device with its own application server (end-to-end)',
    vendor: 'chirpstack',
    netID: '000013',
    macVersion: '1.0.4',
    withAS: true,
    request: (d, phy) => ({
      ProtocolVersion: '1.0',
      SenderID: '000013',
      ReceiverID: d.joinEUI,
      TransactionID: randomTxID(),
      MessageType: 'JoinReq',
      MACVersion: '1.0.4',
      PHYPayload: phy,
      DevEUI: d.devEUI,
      DevAddr: '00a1b2c5',
      DLSettings: '00',
      RxDelay: 1,
    }),
    expectKeys: ['NwkSKey', 'AppSKey', 'SessionKeyID'],
    absentKeys: NET_11,
    appSKey: 'as',
    sessionKeyID: true,
  },
  {
    name: 'ChirpStack v3 / Go backend client (VSExtension {}, CFList)',
    vendor: 'chirpstack',
    netID: '000013',
    macVersion: '1.0.2',
    request: (d, phy) => ({
      ProtocolVersion: '1.0',
      SenderID: '000013',
      ReceiverID: d.joinEUI,
      TransactionID: randomTxID(),
      MessageType: 'JoinReq',
      MACVersion: '1.0.2',
      PHYPayload: phy,
      DevEUI: d.devEUI,
      DevAddr: '00a1b2c6',
      DLSettings: '00',
      RxDelay: 1,
      CFList: '184f84e85684b85e84886684586e8400',
      VSExtension: {},
    }),
    expectKeys: ['NwkSKey', 'AppSKey'],
    absentKeys: ['SessionKeyID'],
    appSKey: 'clear',
    sessionKeyID: false,
  },
  {
    name: 'The Things Stack, BI 1.1 (SenderNSID, TransactionID 0, upper case)',
    vendor: 'the-things-stack',
    netID: '000099',
    nsID: '70B3D57ED000ABCD',
    macVersion: '1.0.3',
    request: (d, phy) => ({
      ProtocolVersion: '1.1',
      SenderID: '000099',
      ReceiverID: d.joinEUI.toUpperCase(),
      TransactionID: 0,
      MessageType: 'JoinReq',
      SenderNSID: '70B3D57ED000ABCD',
      MACVersion: '1.0.3',
      PHYPayload: phy.toUpperCase(),
      DevEUI: d.devEUI.toUpperCase(),
      DevAddr: '260B1234',
      DLSettings: '00',
      RxDelay: 5,
    }),
    expectKeys: ['NwkSKey', 'AppSKey', 'SessionKeyID'],
    absentKeys: NET_11,
    appSKey: 'ns',
    sessionKeyID: true,
  },
  {
    name: 'The Things Stack, BI 1.0, LoRaWAN 1.1 (MACVersion "1.1")',
    vendor: 'the-things-stack',
    netID: '000099',
    macVersion: '1.1',
    request: (d, phy) => ({
      ProtocolVersion: '1.0',
      SenderID: '000099',
      ReceiverID: d.joinEUI.toUpperCase(),
      TransactionID: 0,
      MessageType: 'JoinReq',
      MACVersion: '1.1',
      PHYPayload: phy.toUpperCase(),
      DevEUI: d.devEUI.toUpperCase(),
      DevAddr: '260B1235',
      DLSettings: '80',
      RxDelay: 5,
    }),
    expectKeys: [...NET_11, 'AppSKey', 'SessionKeyID'],
    absentKeys: ['NwkSKey'],
    appSKey: 'ns',
    sessionKeyID: true,
  },
  ...(['actility', 'loriot', 'orbiwise', 'generic'] as const).map((vendor): VendorJoinRequest => ({
    name: `${vendor}, BI 1.0, LoRaWAN 1.0.3`,
    vendor,
    netID: '000013',
    macVersion: '1.0.3',
    request: (d, phy) => ({
      ProtocolVersion: '1.0',
      SenderID: '000013',
      ReceiverID: d.joinEUI,
      TransactionID: randomTxID(),
      MessageType: 'JoinReq',
      MACVersion: '1.0.3',
      PHYPayload: phy,
      DevEUI: d.devEUI,
      DevAddr: '00a1b2c7',
      DLSettings: '00',
      RxDelay: 1,
    }),
    expectKeys: ['NwkSKey', 'AppSKey', 'SessionKeyID'],
    absentKeys: NET_11,
    appSKey: 'ns',
    sessionKeyID: true,
  })),
];

function nulls(value: unknown, at = '$'): string[] {
  if (value === null) return [at];
  if (typeof value !== 'object') return [];
  return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => nulls(v, `${at}.${k}`));
}

type KEK = { readonly label: string; readonly key: Buffer };

/**
 * The answer that vendor accepts, checked as its network server (keys unwrapped with its KEK)
 * and as the device (lora-packet), for the request made with DevNonce 1.
 */
export function expectVendorAnswer(fixture: VendorJoinRequest, device: DeviceKeys, request: Record<string, unknown>, answer: Record<string, any>, ns: KEK, as: KEK): void {
  expect(answer['Result']).toEqual({ ResultCode: 'Success' });
  expect(nulls(answer)).toEqual([]);
  expect(answer['TransactionID']).toBe(request['TransactionID']);
  expect(answer['ProtocolVersion']).toBe(request['ProtocolVersion']);
  if (fixture.nsID) expect(answer['ReceiverNSID']).toBe(fixture.nsID.toLowerCase());
  for (const k of fixture.expectKeys) expect(answer).toHaveProperty(k);
  for (const k of fixture.absentKeys) expect(answer).not.toHaveProperty(k);

  const accepted = acceptJoin(device, 1, answer['PHYPayload']);
  expect(accepted.micValid).toBe(true);
  if (request['CFList']) expect(accepted.cfList).toBe(request['CFList']);
  for (const k of fixture.expectKeys.filter((k) => k !== 'AppSKey' && k !== 'SessionKeyID')) {
    expect(answer[k]['KEKLabel']).toBe(ns.label);
    expect(openEnvelope(answer[k], ns)).toBe(accepted.keys[k]);
  }
  const appSKey = answer['AppSKey'];
  expect(appSKey['KEKLabel']).toBe({ clear: '', ns: ns.label, as: as.label }[fixture.appSKey]);
  expect(openEnvelope(appSKey, fixture.appSKey === 'as' ? as : ns)).toBe(accepted.keys['AppSKey']);
  expect(typeof answer['SessionKeyID'] === 'string').toBe(fixture.sessionKeyID);
}
