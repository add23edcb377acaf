import fc from 'fast-check';
import { defuse, isReplay, joinRequestFrame, rejoin02Frame, rejoin1Frame, type RealDevice } from './frames';
import { DuplicateKeys, RawJSON, toJSONText } from './json-text';
import type { DeviceKeys } from '../support/lora-device';

/**
 * fast-check arbitraries for hostile Backend Interfaces traffic. Every input is bad by
 * construction: a correct Join Server answers each with a refusal (a 4xx, or a BI `Result`
 * other than Success) and changes no device state. What makes each one bad:
 *
 * - raw bodies: not JSON, not an object, too large;
 * - JoinReq/RejoinReq: a PHYPayload no device bound to the sending certificate's peer can
 *   accept (wrong MIC, replayed DevNonce, truncated, oversized, wrong MHDR, unknown device...;
 *   `defuse` checks it against the real devices' keys), or a valid frame sent by another peer;
 * - AppSKeyReq: an unknown session, or a real one with a fatal header defect;
 * - HomeNSReq for a real device: a fatal header defect (a bad ProtocolVersion or TransactionID);
 * - ErrorNotif: garbage (it is only acknowledged); other MessageTypes: not handled.
 *
 * On top, for half of them, 1..4 random mutations of any field (wrong types, hex garbage, wrong lengths, huge
 * numbers, deletions, duplicate keys), which can only make a message worse.
 */

export interface FuzzPeer {
  readonly name: string;
  readonly kind: 'ns' | 'as';
  /** NetID (network server) or AS-ID (application server): its own SenderID. */
  readonly senderID: string;
  readonly nsID?: string;
}

export interface FuzzWorld {
  readonly joinEUI: string;
  readonly peers: readonly FuzzPeer[];
  readonly devices: readonly RealDevice[];
  /** SessionKeyIDs issued before the storm: AppSKeyReqs for them must carry a fatal defect. */
  readonly sessionKeyIDs: readonly string[];
}

export interface FuzzCase {
  /** Which generator made it (for the statistics and the failure report). */
  readonly label: string;
  /** Whose client certificate sends it. */
  readonly peer: string;
  readonly method: string;
  readonly path: string;
  readonly contentType: string | undefined;
  /** Other request headers (an Authorization, a client-certificate header from no trusted proxy). */
  readonly headers: Readonly<Record<string, string>>;
  /** Sent with chunked transfer encoding (no Content-Length) rather than in one piece. */
  readonly chunked: boolean;
  readonly body: Buffer;
}

type Entries = Array<[string, unknown]>;

// ---------------------------------------------------------------------------------------------
// Values

/** Any code point, lone surrogates included (cheaper than fast-check's full-unicode units to set up). */
const anyChar = fc.oneof(fc.integer({ min: 0, max: 0x7f }), fc.integer({ min: 0, max: 0x10ffff })).map((cp) => String.fromCodePoint(cp));
const HEX_UNIT = fc.constantFrom(...'0123456789abcdefABCDEF'.split(''));
const hexDigits = (minLength: number, maxLength: number): fc.Arbitrary<string> => fc.string({ unit: HEX_UNIT, minLength, maxLength });
const bytes = (minLength: number, maxLength: number): fc.Arbitrary<Buffer> => fc.uint8Array({ minLength, maxLength }).map((b) => Buffer.from(b));
const uint32 = fc.oneof(fc.constantFrom(0, 1, 0xffffffff, 0x7fffffff, 0x80000000), fc.nat({ max: 0xffffffff }));
const uint16 = fc.nat({ max: 0xffff });

/** Numbers JavaScript cannot hold or JSON cannot say, as JSON tokens. */
const rawNumber = fc
  .constantFrom('1e400', '-1e400', '123456789012345678901234567890', '-0', '0.0000000000000000000000001', '1E+2', '1e-400', '4294967296', '-4294967297', '9007199254740993', '0.5e1', '1.0')
  .map((t) => new RawJSON(t));

const hugeNumber = fc.constantFrom(1e308, -1e308, 2 ** 53, 2 ** 53 + 2, -(2 ** 53), 2 ** 32, 2 ** 32 - 1, -1, 0.5, -0, Number.MAX_SAFE_INTEGER, Number.MIN_VALUE, 4294967295.5, 256, 16, -255);

const nanLike = fc.constantFrom(
  'NaN',
  'Infinity',
  '-Infinity',
  '1e308',
  '-1',
  '4294967296',
  '1.5',
  ' 7 ',
  '',
  ' ',
  'null',
  'undefined',
  'true',
  '[object Object]',
  '\u0000',
  '０１２３',
  '٣',
  '0x10',
  '1_000',
  '+1',
  '.5',
  '1e3',
);

const longString = fc.tuple(fc.constantFrom('a', '0', 'é', '\u{1F600}', '\\', '"', ' '), fc.integer({ min: 100, max: 2000 })).map(([c, n]) => c.repeat(n));

/** A value of the wrong type for any field. */
export const wrongType: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer(),
  fc.double(),
  hugeNumber,
  rawNumber,
  nanLike,
  fc.boolean(),
  fc.constant(null),
  fc.constant([]),
  fc.constant({}),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: anyChar, maxLength: 40 }),
  longString,
);

/** Strings that are not the hex a field needs. */
export const hexGarbage: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: hexDigits(0, 47).map((h) => (h.length % 2 === 1 ? h : `${h}f`)), weight: 20 }, // odd length
  { arbitrary: hexDigits(0, 64).filter((h) => h.length % 2 === 0), weight: 20 }, // valid hex, (mostly) the wrong length
  {
    arbitrary: fc.constantFrom('0x', '0X', '0x0x00', 'x00', '00x', '0b0101', '-', ':', '--::', ' ', '\t', 'zz', 'gg00', '0xgg', '\u00e900', '０００', '١٢', 'ff\u200bff', 'ff\nff', 'ff ff', 'ff+ff', 'ff.ff', '#ffff'),
    weight: 20,
  },
  { arbitrary: fc.tuple(hexDigits(0, 20), fc.constantFrom('g', 'z', ' ', 'é', '０', '٣', '\u200b', '\n', '+', '.', '\u0000', '"', '\\', '\u{1F600}'), hexDigits(0, 20)).map(([a, c, b]) => a + c + b), weight: 20 },
  { arbitrary: fc.tuple(fc.constantFrom('0x', '0X', '  ', '0x0x', 'x'), hexDigits(0, 40)).map(([p, h]) => p + h), weight: 20 },
  { arbitrary: fc.string({ unit: anyChar, maxLength: 20 }), weight: 10 },
  { arbitrary: fc.integer({ min: 1_000, max: 33_000 }).map((n) => 'a'.repeat(n)), weight: 1 }, // up to past the body limit
);

/** The right bytes, spelt the ways tolerant input allows (case, 0x, separators, spaces). */
function spell(b: Buffer, style: number): string {
  const h = b.toString('hex');
  switch (style % 7) {
    case 1:
      return h.toUpperCase();
    case 2:
      return `0x${h}`;
    case 3:
      return `0X${h.toUpperCase()}`;
    case 4:
      return h.replace(/(..)(?=.)/g, '$1-');
    case 5:
      return h.replace(/(..)(?=.)/g, '$1:');
    case 6:
      return ` ${h} `;
    default:
      return h;
  }
}

const MAC_VERSIONS = ['1.0', '1.0.0', '1.0.1', '1.0.2', '1.0.3', '1.0.4', '1.1', '1.1.0', 'MAC_V1_0_3', '1.0.2rB', 'v1.0.4'];

// ---------------------------------------------------------------------------------------------
// Entries (a JSON object, duplicates allowed, in order)

function setField(e: Entries, key: string, value: unknown): void {
  const i = e.findIndex(([k]) => k === key);
  const rest = e.filter(([k], j) => k !== key || j === i);
  e.length = 0;
  e.push(...rest);
  if (i < 0) e.push([key, value]);
  else e[e.findIndex(([k]) => k === key)] = [key, value];
}

function deleteField(e: Entries, key: string): void {
  const rest = e.filter(([k]) => k !== key);
  e.length = 0;
  e.push(...rest);
}

// ---------------------------------------------------------------------------------------------
// Mutations: any field, made worse

const HEADER_FIELDS = ['ProtocolVersion', 'SenderID', 'ReceiverID', 'TransactionID', 'MessageType', 'SenderToken', 'ReceiverToken', 'SenderNSID', 'ReceiverNSID', 'VSExtension'];
const BODY_FIELDS = ['MACVersion', 'PHYPayload', 'DevEUI', 'DevAddr', 'DLSettings', 'RxDelay', 'CFList', 'SessionKeyID', 'Result', 'Lifetime', 'HNetID', 'JoinEUI', 'NetID'];
const ODD_FIELDS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', '', ' ', 'devEUI', 'PHYPAYLOAD', 'phy_payload', 'DevEUI\u0000', '\u{1F600}'];

const fieldName = fc.oneof({ arbitrary: fc.constantFrom(...HEADER_FIELDS, ...BODY_FIELDS), weight: 8 }, { arbitrary: fc.constantFrom(...ODD_FIELDS), weight: 1 }, { arbitrary: fc.string({ maxLength: 12 }), weight: 1 });

const outOfRange = fc.oneof(
  fc.constantFrom(256, -1, 16, 1000, 0xffff, 2 ** 31, '100', '1ff', '-1', 'fff', 16.5, '16', ' 99 ', '0x100', 'ff ff', '1e1'),
  fc.integer({ min: 16, max: 1_000_000 }),
  fc.integer({ min: -1_000_000, max: -1 }),
);

type Mutation =
  | { readonly op: 'delete'; readonly field: string }
  | { readonly op: 'set'; readonly field: string; readonly value: unknown }
  | { readonly op: 'duplicate'; readonly field: string; readonly value: unknown; readonly first: boolean };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { arbitrary: fieldName.map((field) => ({ op: 'delete' as const, field })), weight: 2 },
  { arbitrary: fc.record({ field: fieldName, value: wrongType }).map((m) => ({ op: 'set' as const, ...m })), weight: 5 },
  { arbitrary: fc.record({ field: fieldName, value: hexGarbage }).map((m) => ({ op: 'set' as const, ...m })), weight: 5 },
  { arbitrary: fc.record({ field: fc.constantFrom('DLSettings', 'RxDelay', 'TransactionID', 'Lifetime'), value: outOfRange }).map((m) => ({ op: 'set' as const, ...m })), weight: 2 },
  {
    arbitrary: fc
      .record({ field: fc.constantFrom('MACVersion', 'ProtocolVersion'), value: fc.oneof(fc.constantFrom(...MAC_VERSIONS, '1.2', '2.0', '1.0.5', '1', 1.1, 1.0, '1.1.1', 'MAC_V9', '', '1..0', '1.0.', 'v', 'lorawan')) })
      .map((m) => ({ op: 'set' as const, ...m })),
    weight: 1,
  },
  { arbitrary: fc.record({ field: fieldName, value: fc.oneof(wrongType, hexGarbage), first: fc.boolean() }).map((m) => ({ op: 'duplicate' as const, ...m })), weight: 1 },
);

function applyMutation(e: Entries, m: Mutation): void {
  if (m.op === 'delete') deleteField(e, m.field);
  else if (m.op === 'set') setField(e, m.field, m.value);
  else {
    const i = e.findIndex(([k]) => k === m.field);
    if (i < 0) e.push([m.field, m.value]);
    else e.splice(m.first ? i : i + 1, 0, [m.field, m.value]);
  }
}

/** Defects no correct Join Server can look past, whatever the message: applied last. */
const badProtocolVersion = fc.oneof(
  fc.constantFrom('9.9', '0.0', '', ' ', '1', '1.2', '2.0', '1.0.1', '1.1.1', 'x', 'v1.x', '1.0\u0000', 'ONE', '\u{1F600}'),
  fc.constantFrom(null, true, false, [], {}, ['1.0'], { v: '1.1' }, 10, -1, 99.5),
  fc.string({ maxLength: 8 }).filter((s) => !['1.0', '1.0.0', '1.1', '1.1.0'].includes(s.trim())),
);
const badTransactionID = fc.oneof(
  fc.constantFrom(-1, 2 ** 32, 2 ** 53, 1e308, -1e308, 1.5, 0.1, -0.5, 'abc', '', ' ', '-1', '0x10', 'NaN', '1e3', '4294967296', null, true, false, [], {}, [1], { n: 1 }),
  fc.integer({ min: 2 ** 32, max: Number.MAX_SAFE_INTEGER }),
  fc.integer({ min: Number.MIN_SAFE_INTEGER, max: -1 }),
  fc.constantFrom('1e400', '-1e400', '123456789012345678901234567890', '4294967296.0', '0.5').map((t) => new RawJSON(t)),
);
const fatalDefect = fc.oneof(
  badProtocolVersion.map((v) => ({ field: 'ProtocolVersion', value: v })),
  badTransactionID.map((v) => ({ field: 'TransactionID', value: v })),
);

// ---------------------------------------------------------------------------------------------
// Messages

interface Built {
  readonly label: string;
  readonly peer: string;
  readonly entries: Entries;
  /** The message would be good were it not for a fatal header defect: one is added last. */
  readonly needsFatal: boolean;
}

function header(world: FuzzWorld, peer: FuzzPeer, messageType: string, pv: string, txid: number, style: number): Entries {
  const e: Entries = [
    ['ProtocolVersion', pv],
    ['SenderID', peer.senderID],
    ['ReceiverID', spell(Buffer.from(world.joinEUI, 'hex'), style)],
    ['TransactionID', txid],
    ['MessageType', messageType],
  ];
  if (pv === '1.1' && peer.nsID) e.push(['SenderNSID', peer.nsID]);
  return e;
}

/** A device the Join Server does not know (the EUIs of real ones are far from these). */
const fakeDevEUI = bytes(8, 8).map((b) => {
  b[0] = 0xfe;
  return b.toString('hex');
});

type FrameRecipe =
  | { readonly kind: 'wrong-mic'; readonly devNonce: number; readonly micXor: number }
  | { readonly kind: 'replay'; readonly pick: number }
  | { readonly kind: 'fresh-valid'; readonly devNonce: number }
  | { readonly kind: 'rejoin1-wrong-mic'; readonly rjCount: number; readonly micXor: number }
  | { readonly kind: 'rejoin1-valid'; readonly rjCount: number }
  | { readonly kind: 'rejoin02'; readonly type: 0 | 2; readonly netID: Buffer; readonly rjCount: number; readonly mic: Buffer; readonly fakeEUI: string }
  | { readonly kind: 'truncated'; readonly keep: number; readonly rejoin: boolean }
  | { readonly kind: 'oversized'; readonly extra: Buffer; readonly rejoin: boolean }
  | { readonly kind: 'huge'; readonly size: number }
  | { readonly kind: 'mhdr'; readonly mhdr: number; readonly rejoin: boolean }
  | { readonly kind: 'random'; readonly bytes: Buffer }
  | { readonly kind: 'other-device'; readonly devNonce: number; readonly micXor: number };

const micXor = fc.integer({ min: 1, max: 0xffffffff });
const frameRecipe: fc.Arbitrary<FrameRecipe> = fc.oneof(
  { arbitrary: fc.record({ devNonce: uint16, micXor }).map((r) => ({ kind: 'wrong-mic' as const, ...r })), weight: 10 },
  { arbitrary: fc.nat().map((pick) => ({ kind: 'replay' as const, pick })), weight: 5 },
  { arbitrary: uint16.map((devNonce) => ({ kind: 'fresh-valid' as const, devNonce })), weight: 2 },
  { arbitrary: fc.record({ rjCount: uint16, micXor }).map((r) => ({ kind: 'rejoin1-wrong-mic' as const, ...r })), weight: 2 },
  { arbitrary: uint16.map((rjCount) => ({ kind: 'rejoin1-valid' as const, rjCount })), weight: 1 },
  {
    arbitrary: fc.record({ type: fc.constantFrom(0 as const, 2 as const), netID: bytes(3, 3), rjCount: uint16, mic: bytes(4, 4), fakeEUI: fakeDevEUI }).map((r) => ({ kind: 'rejoin02' as const, ...r })),
    weight: 2,
  },
  { arbitrary: fc.record({ keep: fc.nat({ max: 23 }), rejoin: fc.boolean() }).map((r) => ({ kind: 'truncated' as const, ...r })), weight: 3 },
  { arbitrary: fc.record({ extra: bytes(1, 48), rejoin: fc.boolean() }).map((r) => ({ kind: 'oversized' as const, ...r })), weight: 3 },
  { arbitrary: fc.oneof({ arbitrary: fc.integer({ min: 64, max: 600 }), weight: 9 }, { arbitrary: fc.integer({ min: 600, max: 16_500 }), weight: 1 }).map((size) => ({ kind: 'huge' as const, size })), weight: 1 },
  { arbitrary: fc.record({ mhdr: fc.nat({ max: 255 }), rejoin: fc.boolean() }).map((r) => ({ kind: 'mhdr' as const, ...r })), weight: 3 },
  { arbitrary: bytes(0, 40).map((b) => ({ kind: 'random' as const, bytes: b })), weight: 2 },
  { arbitrary: fc.record({ devNonce: uint16, micXor: fc.constantFrom(0, 1) }).map((r) => ({ kind: 'other-device' as const, ...r })), weight: 1 },
);

/** The PHYPayload for `device` (or an unknown DevEUI) that recipe `r` describes, defused. */
function frame(world: FuzzWorld, peer: string, target: RealDevice | string, r: FrameRecipe): Buffer {
  const real = typeof target === 'string' ? undefined : target;
  const keys: DeviceKeys = real ?? { devEUI: target as string, joinEUI: world.joinEUI, macVersion: '1.0.3', appKey: '00112233445566778899aabbccddeeff' };
  const joinOf = (n: number, x: number): Buffer => joinRequestFrame(keys, n, x);
  const rejoinOf = (n: number, x: number): Buffer => rejoin1Frame({ ...keys, nwkKey: keys.nwkKey ?? keys.appKey }, n, x);
  let b: Buffer;
  switch (r.kind) {
    case 'wrong-mic':
      b = joinOf(r.devNonce, r.micXor);
      break;
    case 'replay': {
      if (real === undefined) {
        b = joinOf(r.pick & 0xffff, 0);
        break;
      }
      const nonce = real.counter ? r.pick % (real.lastDevNonce + 1) : real.usedDevNonces[r.pick % real.usedDevNonces.length]!;
      if (!isReplay(real, nonce)) throw new Error('replay recipe made a fresh DevNonce');
      b = joinOf(nonce, 0);
      break;
    }
    case 'fresh-valid':
      // A correct join-request: bad only when its sender is not the device's network server
      // (defuse bends it otherwise). The hostile network server of a roaming partner.
      b = joinOf(r.devNonce, 0);
      break;
    case 'rejoin1-wrong-mic':
      b = rejoinOf(r.rjCount, r.micXor);
      break;
    case 'rejoin1-valid':
      b = rejoinOf(r.rjCount, 0);
      break;
    case 'rejoin02':
      b = rejoin02Frame(r.type, r.netID, real ? r.fakeEUI : keys.devEUI, r.rjCount, r.mic);
      break;
    case 'truncated':
      b = (r.rejoin ? rejoinOf(1, 0) : joinOf(1, 0)).subarray(0, r.keep);
      break;
    case 'oversized':
      b = Buffer.concat([r.rejoin ? rejoinOf(7, 0) : joinOf(7, 0), r.extra]);
      break;
    case 'huge':
      b = Buffer.alloc(r.size, 0x5a);
      break;
    case 'mhdr': {
      b = Buffer.from(r.rejoin ? rejoinOf(9, 0) : joinOf(9, 0));
      b[0] = r.mhdr;
      break;
    }
    case 'random':
      b = r.bytes;
      break;
    case 'other-device': {
      // A well-formed frame of another real device, under this one's DevEUI field.
      const other = world.devices[(keys.devEUI.charCodeAt(15) + r.devNonce) % world.devices.length]!;
      b = joinRequestFrame(other, r.devNonce, r.micXor);
      break;
    }
  }
  return defuse(b, peer, world.devices);
}

function peerArb(world: FuzzWorld, weights: Readonly<Record<string, number>>): fc.Arbitrary<FuzzPeer> {
  return fc.oneof(...world.peers.map((p) => ({ arbitrary: fc.constant(p), weight: weights[p.name] ?? 1 })));
}

function targetArb(world: FuzzWorld): fc.Arbitrary<RealDevice | string> {
  return fc.oneof({ arbitrary: fc.constantFrom(...world.devices), weight: 4 }, { arbitrary: fakeDevEUI, weight: 1 });
}

const txid = uint32;
const pvArb = fc.constantFrom('1.0', '1.1', '1.0', '1.1', ' 1.1 ', '1.0.0', '1.1.0');
const styleArb = fc.nat({ max: 6 });

/** JoinReq and RejoinReq for real and unknown devices, with bad PHYPayloads. */
function activation(world: FuzzWorld): fc.Arbitrary<Built> {
  return fc
    .record({
      peer: peerArb(world, { 'ns-a': 6, 'ns-b': 1, 'ns-c': 2, 'as-1': 1 }),
      messageType: fc.constantFrom('JoinReq', 'JoinReq', 'RejoinReq'),
      pv: pvArb,
      txid,
      style: styleArb,
      target: targetArb(world),
      recipe: frameRecipe,
      macVersion: fc.oneof({ arbitrary: fc.constant(undefined), weight: 4 }, { arbitrary: fc.constantFrom(...MAC_VERSIONS), weight: 1 }),
      devAddr: bytes(4, 4),
      dlSettings: fc.oneof(
        fc.nat({ max: 255 }),
        fc.nat({ max: 255 }).map((n) => n.toString(16).padStart(2, '0')),
      ),
      rxDelay: fc.oneof(fc.nat({ max: 15 }), fc.nat({ max: 15 }).map(String)),
      cfList: fc.option(bytes(16, 16), { nil: undefined }),
    })
    .map((g) => {
      const devEUI = typeof g.target === 'string' ? g.target : g.target.devEUI;
      const e = header(world, g.peer, g.messageType, g.pv, g.txid, g.style);
      e.push(
        ['MACVersion', g.macVersion ?? (typeof g.target === 'string' ? '1.0.3' : g.target.macVersion)],
        ['PHYPayload', spell(frame(world, g.peer.name, g.target, g.recipe), g.style)],
        ['DevEUI', spell(Buffer.from(devEUI, 'hex'), g.style + 1)],
        ['DevAddr', spell(g.devAddr, g.style)],
        ['DLSettings', g.dlSettings],
        ['RxDelay', g.rxDelay],
      );
      if (g.cfList) e.push(['CFList', spell(g.cfList, g.style)]);
      return { label: `${g.messageType}/${g.recipe.kind}`, peer: g.peer.name, entries: e, needsFatal: false };
    });
}

function appSKeyReq(world: FuzzWorld): fc.Arbitrary<Built> {
  return fc
    .record({
      peer: peerArb(world, { 'as-1': 4, 'ns-a': 2, 'ns-b': 1, 'ns-c': 1 }),
      pv: pvArb,
      txid,
      style: styleArb,
      target: targetArb(world),
      session: fc.oneof({ arbitrary: bytes(16, 16).map((b) => ({ id: b.toString('hex'), real: false })), weight: 3 }, { arbitrary: fc.constantFrom(...world.sessionKeyIDs).map((id) => ({ id, real: true })), weight: 1 }),
      asSender: fc.boolean(),
    })
    .map((g) => {
      const e = header(world, g.peer, 'AppSKeyReq', g.pv, g.txid, g.style);
      if (g.asSender) setField(e, 'SenderID', world.peers.find((p) => p.kind === 'as')?.senderID ?? 'as');
      e.push(['DevEUI', spell(Buffer.from(typeof g.target === 'string' ? g.target : g.target.devEUI, 'hex'), g.style)], ['SessionKeyID', spell(Buffer.from(g.session.id, 'hex'), g.style)]);
      return { label: `AppSKeyReq/${g.session.real ? 'real-session' : 'unknown-session'}`, peer: g.peer.name, entries: e, needsFatal: g.session.real };
    });
}

function homeNSReq(world: FuzzWorld): fc.Arbitrary<Built> {
  return fc.record({ peer: peerArb(world, {}), pv: pvArb, txid, style: styleArb, target: targetArb(world) }).map((g) => {
    const e = header(world, g.peer, 'HomeNSReq', g.pv, g.txid, g.style);
    const real = typeof g.target !== 'string';
    e.push(['DevEUI', spell(Buffer.from(typeof g.target === 'string' ? g.target : g.target.devEUI, 'hex'), g.style)]);
    return { label: `HomeNSReq/${real ? 'real-device' : 'unknown-device'}`, peer: g.peer.name, entries: e, needsFatal: real };
  });
}

const resultCodes = fc.constantFrom('Success', 'MICFailed', 'JoinReqFailed', 'UnknownDevEUI', 'UnkownReceiver', 'RoamingActDisallowedA', 'MalformedRequest', 'Other', 'XmitFailed', 'Deferred');
function errorNotif(world: FuzzWorld): fc.Arbitrary<Built> {
  return fc
    .record({
      peer: peerArb(world, {}),
      pv: pvArb,
      txid,
      style: styleArb,
      result: fc.oneof(fc.record({ ResultCode: fc.oneof(resultCodes, wrongType), Description: fc.oneof(fc.string({ maxLength: 40 }), longString, wrongType) }, { requiredKeys: [] }), wrongType),
    })
    .map((g) => {
      const e = header(world, g.peer, 'ErrorNotif', g.pv, g.txid, g.style);
      e.push(['Result', g.result]);
      return { label: 'ErrorNotif', peer: g.peer.name, entries: e, needsFatal: false };
    });
}

/** Message types a Join Server does not handle (roaming, answers, garbage, near misses). */
const unhandledType = fc.oneof(
  fc.constantFrom(
    'PRStartReq',
    'PRStopReq',
    'XmitDataReq',
    'ProfileReq',
    'XmitLocReq',
    'JoinAns',
    'RejoinAns',
    'AppSKeyAns',
    'HomeNSAns',
    'PRStartAns',
    'Req',
    'Ans',
    '',
    ' ',
    'joinreq',
    'JOINREQ',
    'JoinReq\u0000',
    'Join Req',
    'Joinreq',
    '\u{1F600}Req',
    'ErrorNotifReq',
  ),
  fc.string({ maxLength: 16 }).filter((s) => !/^(join|rejoin|appskey|homens)(req)?$|^errornotif$/i.test(s.trim())),
  fc.constantFrom(null, 7, true, [], {}, ['JoinReq'], { MessageType: 'JoinReq' }),
);
function unhandled(world: FuzzWorld): fc.Arbitrary<Built> {
  return fc.tuple(activation(world), unhandledType).map(([b, t]) => {
    setField(b.entries, 'MessageType', t);
    return { ...b, label: 'unhandled-MessageType' };
  });
}

/** A BI message, mutated, serialized. */
export function biMessage(world: FuzzWorld): fc.Arbitrary<{ label: string; peer: string; body: Buffer }> {
  const base = fc.oneof(
    { arbitrary: activation(world), weight: 10 },
    { arbitrary: appSKeyReq(world), weight: 2 },
    { arbitrary: homeNSReq(world), weight: 2 },
    { arbitrary: errorNotif(world), weight: 1 },
    { arbitrary: unhandled(world), weight: 2 },
  );
  // Half the messages go unmutated, so their defect is the only one: they reach the deep paths
  // (MIC check, nonce check, device binding) rather than failing at parsing.
  const mutations = fc.oneof(fc.constant([] as Mutation[]), fc.array(mutation, { minLength: 1, maxLength: 4 }));
  return fc
    .record({
      base,
      mutations,
      fatal: fc.oneof({ arbitrary: fc.constant(null), weight: 6 }, { arbitrary: fatalDefect, weight: 1 }),
      deepField: fc.oneof({ arbitrary: fc.constant(null), weight: 40 }, { arbitrary: deepJSON, weight: 1 }),
    })
    .map((g) => {
      const e = g.base.entries;
      for (const m of g.mutations) applyMutation(e, m);
      if (g.deepField !== null) e.push(['VSExtension', new RawJSON(g.deepField)]);
      const fatal = g.fatal ?? (g.base.needsFatal ? { field: 'TransactionID', value: -1 } : null);
      if (fatal) setField(e, fatal.field, fatal.value);
      const label = `${g.base.label}${g.mutations.length > 0 ? '+mutated' : ''}${fatal ? '+fatal' : ''}`;
      return { label, peer: g.base.peer, body: Buffer.from(toJSONText(new DuplicateKeys(e))) };
    });
}

// ---------------------------------------------------------------------------------------------
// Raw bodies

/** Deeply nested JSON text (valid, unclosed, or mixed), up to ~30 KB. */
const deepJSON: fc.Arbitrary<string> = fc
  .record({ depth: fc.oneof({ arbitrary: fc.integer({ min: 1, max: 300 }), weight: 4 }, { arbitrary: fc.integer({ min: 300, max: 6000 }), weight: 1 }), kind: fc.nat({ max: 3 }) })
  .map(({ depth, kind }) => {
    switch (kind) {
      case 0:
        return `${'['.repeat(depth)}${']'.repeat(depth)}`;
      case 1:
        return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
      case 2:
        return `${'[{"b":'.repeat(Math.ceil(depth / 2))}null${'}]'.repeat(Math.ceil(depth / 2))}`;
      default:
        return `${'{"a":['.repeat(Math.ceil(depth / 3))}0${']}'.repeat(Math.ceil(depth / 3))}`;
    }
  });

function parsesAsJSON(body: Buffer): boolean {
  try {
    JSON.parse(body.toString('utf8'));
    return true;
  } catch {
    return false;
  }
}

function rawBody(world: FuzzWorld): fc.Arbitrary<{ label: string; peer: string; body: Buffer }> {
  const someMessage = biMessage(world).map((m) => m.body.toString('utf8'));
  const peer = peerArb(world, { 'ns-a': 4 }).map((p) => p.name);
  const raw = fc.oneof(
    { arbitrary: bytes(0, 300).map((b) => ({ label: 'raw/random-bytes', body: b })), weight: 30 },
    { arbitrary: fc.string({ unit: anyChar, maxLength: 200 }).map((s) => ({ label: 'raw/random-string', body: Buffer.from(s) })), weight: 20 },
    {
      arbitrary: fc
        .jsonValue({ maxDepth: 3 })
        .filter((v) => typeof v !== 'object' || v === null || Array.isArray(v))
        .map((v) => ({ label: 'raw/json-not-object', body: Buffer.from(JSON.stringify(v) ?? 'null') })),
      weight: 20,
    },
    { arbitrary: fc.tuple(someMessage, fc.nat()).map(([t, n]) => ({ label: 'raw/truncated-json', body: Buffer.from(t.slice(0, n % Math.max(1, t.length))) })), weight: 30 },
    {
      // One character replaced (or deleted). Only what no longer parses is broken JSON: a digit
      // deleted from a number, or a space for a space, leaves a message that may well be valid
      // (a HomeNSReq of a real device answered Success, as it should).
      arbitrary: fc
        .tuple(someMessage, fc.nat(), fc.constantFrom('', '"', '{', '}', ',', ':', '\\', '\u0000', 'x', ']', '[', ' '))
        .map(([t, n, c]) => {
          const i = n % Math.max(1, t.length);
          return { label: 'raw/broken-json', body: Buffer.from(t.slice(0, i) + c + t.slice(i + 1)) };
        })
        .filter(({ body }) => !parsesAsJSON(body)),
      weight: 30,
    },
    {
      arbitrary: fc
        .tuple(
          someMessage,
          fc.constantFrom(
            '\ufeff%',
            '% x',
            '%%',
            '%,',
            '[%]',
            '%\u0000',
            ' \n\t%\n ',
            '%//c',
            '/*c*/%',
            "{'a':1}",
            '{a:1}',
            '{"a":NaN}',
            '{"a":Infinity}',
            '{"a":01}',
            '{"a":.5}',
            '{"a":1,}',
            '{"a" 1}',
            '{"a":"\\x00"}',
            '{"a":"\\ud800"}',
            '{"\\u0000":1}',
            '',
          ),
        )
        .map(([t, tmpl]) => ({
          label: 'raw/json-framing',
          body: Buffer.from(tmpl.includes('%') ? tmpl.replace(/%/g, t) : tmpl),
        })),
      weight: 30,
    },
    { arbitrary: someMessage.map((t) => ({ label: 'raw/utf16', body: Buffer.from(t, 'utf16le') })), weight: 10 },
    { arbitrary: fc.constantFrom('', ' ', '\n', '\r\n\t ', '\u00a0', '\ufeff').map((t) => ({ label: 'raw/empty', body: Buffer.from(t) })), weight: 10 },
    { arbitrary: deepJSON.map((t) => ({ label: 'raw/deep-json', body: Buffer.from(t) })), weight: 10 },
    {
      // Around the 32 KiB limit, both sides of it: padding, or a long PHYPayload.
      arbitrary: fc.tuple(someMessage, fc.integer({ min: -300, max: 300 }), fc.boolean()).map(([t, delta, phy]) => {
        const target = 32 * 1024 + delta;
        const at = phy ? t.indexOf('"PHYPayload":"') : -1;
        const [pre, post] = at >= 0 ? [t.slice(0, at + 14), t.slice(at + 14)] : ['{"pad":"', t === '{}' ? '"}' : `",${t.slice(1)}`];
        const n = Math.max(0, target - Buffer.byteLength(pre) - Buffer.byteLength(post));
        return { label: `raw/near-limit${delta > 0 ? '-over' : ''}`, body: Buffer.from(pre + (at >= 0 ? '0' : 'x').repeat(n) + post) };
      }),
      weight: 4,
    },
    {
      // Over the limit, a little or by megabytes (what the client is still sending when refused).
      arbitrary: fc
        .oneof({ arbitrary: fc.integer({ min: 33 * 1024, max: 96 * 1024 }), weight: 15 }, { arbitrary: fc.integer({ min: 1 << 20, max: 8 << 20 }), weight: 1 })
        .map((n) => ({ label: n < 1 << 20 ? 'raw/oversized' : 'raw/oversized-megabytes', body: Buffer.alloc(n, 0x7b) })),
      weight: 2,
    },
  );
  return fc.tuple(raw, peer).map(([r, p]) => ({ ...r, peer: p }));
}

// ---------------------------------------------------------------------------------------------
// Requests

const contentType = fc.oneof(
  { arbitrary: fc.constant('application/json'), weight: 20 },
  {
    arbitrary: fc.constantFrom(
      undefined,
      'text/plain',
      'application/json; charset=utf-8',
      'application/octet-stream',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/json; charset=utf-16',
      '*/*',
      'garbage',
      '',
      ';',
      'application/json\u00e9',
    ),
    weight: 2,
  },
);
const path = fc.oneof(
  { arbitrary: fc.constant('/'), weight: 10 },
  {
    arbitrary: fc.constantFrom('/bi/ns-a', '/bi/ns-b', '/bi/unknown', '/bi/', '/api/js', '/%00', '/..%2f..%2f', '/a/b/c?x=1&y', `/${'p'.repeat(2000)}`, '/bi/ns-a?TransactionID=1', '//', '/%', '/%zz', '/bi/%E0%A4%A'),
    weight: 2,
  },
);

const extraHeaders = fc.oneof(
  { arbitrary: fc.constant({}), weight: 30 },
  {
    arbitrary: fc.dictionary(
      fc.constantFrom('authorization', 'x-client-cert', 'x-forwarded-for', 'expect', 'accept'),
      fc.oneof(fc.constantFrom('Bearer x', 'Basic Og==', '', '%%%', '-----BEGIN CERTIFICATE-----', '127.0.0.1', '*/*', '100-continue'), fc.string({ unit: fc.constantFrom(...'abcXYZ019 =:/+'.split('')), maxLength: 80 })),
      { maxKeys: 2 },
    ),
    weight: 1,
  },
);

/** One hostile request: mostly BI messages, some raw bodies, now and then another method. */
export function fuzzCase(world: FuzzWorld): fc.Arbitrary<FuzzCase> {
  // Raw bodies are a sixth: most are not JSON, and fastify closes the connection after refusing
  // one (the client may still be sending, it reasons), so each costs a new TLS connection.
  const payload = fc.oneof({ arbitrary: biMessage(world), weight: 5 }, { arbitrary: rawBody(world), weight: 1 });
  return fc
    .record({
      payload,
      contentType,
      path,
      method: fc.oneof({ arbitrary: fc.constant('POST'), weight: 60 }, { arbitrary: fc.constantFrom('GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'), weight: 1 }),
      headers: extraHeaders,
      chunked: fc.oneof({ arbitrary: fc.constant(false), weight: 30 }, { arbitrary: fc.constant(true), weight: 1 }),
    })
    .map(({ payload: p, contentType: ct, path: pth, method, headers, chunked }) => ({
      label: method === 'POST' ? p.label : `method/${method}`,
      peer: p.peer,
      method,
      path: pth,
      contentType: ct,
      headers,
      chunked: chunked && p.body.length > 1,
      body: p.body,
    }));
}
