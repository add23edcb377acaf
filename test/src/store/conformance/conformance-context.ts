import { randomBytes } from 'node:crypto';
import { DEFAULT_PEER_SETTINGS, type EUI64, type JoinCommit, type NetworkServerPeer, type NewDevice, type SessionRecord, type Store } from '@joinery/core';
import { firstCertificate } from '../../../../core/src/peers/peer-certificates';
import { parseEUI64, parseNetID } from '../../../../core/src/lorawan/identifiers';
import { devNonce, joinNonce } from '../../../../core/src/lorawan/nonces';
import { OPERATOR_TENANT, type TenantID } from '../../../../core/src/tenants/tenant';
import type { AuditEvent } from '../../../../core/src/store/audit-event';
import { type DeviceChange } from '../../../../core/src/store/device';

/**
 * What every part of the store conformance suite shares: the run's handles on the store (the
 * first opened before the tests, more with `open()`, all closed after) and the run's own
 * DevEUIs, peer names and test data. Made inside the suite's describe block.
 */
export interface StoreConformance {
  /** The first handle (set once the suite's beforeAll has run). */
  readonly store: Store;
  /** Another handle on the same database (another instance, the CLI beside a server). */
  open(): Promise<Store>;
  /** A handle the test closes itself (not closed after the suite). */
  openStore(): Promise<Store>;
  readonly run: string;
  readonly tag: string;
  eui(i: number): EUI64;
  nsName(n: string): string;
  newDevice(i: number, overrides?: Partial<NewDevice>): NewDevice;
  commit(devEUI: EUI64, expectedVersion: number, n: number): JoinCommit;
  nsPeer(base: string, overrides?: Partial<NetworkServerPeer>): NetworkServerPeer;
  session(devEUI: EUI64, n: number, createdAt?: Date): SessionRecord;
  chunks<T>(parts: readonly (readonly T[])[], fail?: Error): AsyncGenerator<readonly T[]>;
  thrown(p: Promise<unknown>): Promise<unknown>;
  ownDevices(s?: Store): Promise<EUI64[]>;
  /** An audit entry of this run about a peer. */
  peerAudit(action: string, name: string): AuditEvent;
  /** An audit entry of this run. */
  audit(action: string, devEUI?: EUI64 | null, tenantID?: string | null): AuditEvent;
  /** A tenant id of this run. */
  tenantOf(base: string): TenantID;
  /** An ownership or binding change of a device as read. */
  change(d: { devEUI: EUI64; version: number }, fields: Partial<DeviceChange>): DeviceChange;
}

export function storeConformance(openStore: () => Promise<Store>): StoreConformance {
  const run = randomBytes(4).toString('hex');
  const tag = `r${run}`;
  const handles: Store[] = [];
  let store: Store;

  const open = async (): Promise<Store> => {
    const s = await openStore();
    handles.push(s);
    return s;
  };
  beforeAll(async () => {
    store = await open();
  });
  afterAll(async () => {
    for (const h of handles.splice(0)) await h.close();
  });

  /** DevEUI i of this run: the run's prefix keeps the runs apart and its devices contiguous. */
  const eui = (i: number): EUI64 => parseEUI64(`${run}${i.toString(16).padStart(8, '0')}`);
  const nsName = (n: string): string => `${n}-${tag}`;

  function newDevice(i: number, overrides: Partial<NewDevice> = {}): NewDevice {
    return {
      devEUI: eui(i),
      joinEUI: parseEUI64('70b3d57ed0000000'),
      macVersion: i % 2 === 0 ? '1.0.3' : '1.1',
      sealedRootKeys: randomBytes(47),
      vaultKind: 'software',
      nsPeer: i % 3 === 0 ? nsName('ns-eu') : null,
      asPeer: null,
      ...overrides,
    };
  }

  function commit(devEUI: EUI64, expectedVersion: number, n: number): JoinCommit {
    return {
      devEUI,
      expectedVersion,
      nonces: { lastDevNonce: devNonce(n % 65536), usedDevNonces: [devNonce(1), devNonce(n % 65536)], lastJoinNonce: joinNonce(n), lastRJCount1: null, lastRJCount0: null, rejoinWindow: null },
      joinedAt: new Date(1_700_000_000_000 + n),
      peer: nsName('ns-eu'),
      recordsActivation: true,
    };
  }

  function nsPeer(base: string, overrides: Partial<NetworkServerPeer> = {}): NetworkServerPeer {
    const certFingerprint = overrides.certFingerprint ?? randomBytes(32).toString('hex');
    return {
      kind: 'ns',
      name: nsName(base),
      certFingerprint,
      kekLabel: `${base}-kek`,
      sealedKEK: randomBytes(46),
      settings: DEFAULT_PEER_SETTINGS,
      tenantID: OPERATOR_TENANT,
      createdAt: new Date(1_700_000_000_123),
      netID: parseNetID('000013'),
      nsID: parseEUI64('0000000000000013'),
      vendor: 'chirpstack',
      state: 'enabled',
      ...overrides,
      certificates: overrides.certificates ?? firstCertificate(certFingerprint, new Date(1_700_000_000_123), new Date(1_763_000_000_000)),
    };
  }

  function session(devEUI: EUI64, n: number, createdAt = new Date(1_700_000_000_000 + n * 1000)): SessionRecord {
    return {
      devEUI,
      sessionKeyID: randomBytes(16).toString('hex'),
      joinNonce: joinNonce(n),
      nsPeer: nsName('ns-eu'),
      asPeer: n % 2 === 0 ? nsName('my-as') : null,
      sealedAppSKey: randomBytes(46),
      createdAt,
    };
  }

  /** The chunks of an import, then `fail` if given (a source that breaks after them). */
  async function* chunks<T>(parts: readonly (readonly T[])[], fail?: Error): AsyncGenerator<readonly T[]> {
    for (const p of parts) yield p;
    if (fail) throw fail;
  }

  async function thrown(p: Promise<unknown>): Promise<unknown> {
    try {
      await p;
    } catch (err) {
      return err;
    }
    throw new Error('expected a rejection');
  }

  /** Every device of this run, in the store's order (the run's DevEUIs are contiguous there). */
  async function ownDevices(s: Store = store): Promise<EUI64[]> {
    const all = await s.listDevices({ limit: 1_000_000, offset: 0 });
    return all.map((d) => d.devEUI).filter((e) => e.startsWith(run));
  }

  const peerAudit = (action: string, name: string): AuditEvent => ({ at: new Date(), actor: `test:${tag}`, tenantID: 'operator', source: null, action, devEUI: null, detail: { name } });

  const audit = (action: string, devEUI: EUI64 | null = null, tenantID: string | null = null): AuditEvent => ({
    at: new Date(),
    actor: `test:${tag}`,
    tenantID,
    source: '127.0.0.1',
    action,
    devEUI,
    detail: { run: tag },
  });
  const tenantOf = (base: string): TenantID => `${base}-${tag}` as TenantID;
  const change = (d: { devEUI: EUI64; version: number }, fields: Partial<DeviceChange>): DeviceChange => ({
    devEUI: d.devEUI,
    expectedVersion: d.version,
    owner: null,
    ownerTokenHash: null,
    nsPeer: null,
    asPeer: null,
    locked: false,
    claimedAt: null,
    ...fields,
  });
  return {
    get store(): Store {
      return store;
    },
    open,
    openStore,
    run,
    tag,
    eui,
    nsName,
    newDevice,
    commit,
    nsPeer,
    session,
    chunks,
    thrown,
    ownDevices,
    peerAudit,
    audit,
    tenantOf,
    change,
  };
}
