import { randomBytes } from 'node:crypto';
import type { EUI64 } from '../lorawan/identifiers';
import { joinEUIInPrefix } from '../lorawan/join-eui-prefix';
import type { NetworkServerPeer } from '../peers/peer';
import type { AuditEvent } from '../store/audit-event';
import type { Device } from '../store/device';
import { MigrationConflictError } from '../store/store-errors';
import type { Store } from '../store/store';
import { describeSelection, deviceSelectionJSON, type DeviceSelection } from './device-selection';
import type { FleetMigration, MigrationRequest } from '../store/fleet-migration-journal';
import { MigrationError } from './migration-error';
import { limitFor } from './vendor-limits';

export type { MigrationRequest };

export const DEFAULT_MAX_ATTEMPTS = 8;

/** What a migration would do: the devices it moves and the API calls it makes, at what pace. */
export interface MigrationPlan {
  readonly request: MigrationRequest;
  readonly source: NetworkServerPeer;
  readonly target: NetworkServerPeer;
  readonly devEUIs: readonly EUI64[];
  /** Listed DevEUIs that are not moved, and why. */
  readonly skipped: ReadonlyArray<{ readonly devEUI: EUI64; readonly reason: string }>;
  /** Per vendor: adapter calls to make, and the least time they take at its rate limit. */
  readonly calls: ReadonlyArray<{ readonly peer: string; readonly vendor: string; readonly calls: number; readonly ratePerSecond: number; readonly seconds: number }>;
}

async function networkServer(store: Store, name: string, role: string): Promise<NetworkServerPeer> {
  const peer = await store.getPeer(name);
  if (!peer) throw new MigrationError('peer-not-found', `no network server named ${name} (${role})`);
  if (peer.kind !== 'ns') throw new MigrationError('not-a-network-server', `${name} (${role}) is an application server, not a network server`);
  if (!peer.settings.adapter) throw new MigrationError('no-adapter', `network server ${name} (${role}) has no adapter configured (ns add ... --api-url)`);
  return peer;
}

function selected(selection: DeviceSelection, d: Device): boolean {
  if (selection.kind !== 'filter') return true;
  return (!selection.joinEUIPrefix || joinEUIInPrefix(d.joinEUI, selection.joinEUIPrefix)) && (!selection.macVersion || selection.macVersion === d.macVersion);
}

/** Resolves the selection against the store and checks both peers. Changes nothing. */
export async function planMigration(store: Store, request: MigrationRequest): Promise<MigrationPlan> {
  if (request.sourcePeer === request.targetPeer) throw new MigrationError('same-peer', 'the source and the target are the same network server');
  const source = await networkServer(store, request.sourcePeer, 'source');
  const target = await networkServer(store, request.targetPeer, 'target');
  const devEUIs: EUI64[] = [];
  const skipped: Array<{ devEUI: EUI64; reason: string }> = [];
  if (request.selection.kind === 'dev-euis') {
    for (const devEUI of request.selection.devEUIs) {
      const d = await store.getDevice(devEUI);
      if (!d) skipped.push({ devEUI, reason: 'no such device' });
      else if (d.nsPeer !== source.name || d.overlapNsPeer !== null)
        skipped.push({ devEUI, reason: `bound to ${d.nsPeer ?? 'no network server'}${d.overlapNsPeer ? ` and ${d.overlapNsPeer}` : ''}, not ${source.name} alone` });
      else devEUIs.push(devEUI);
    }
  } else {
    for (let offset = 0; ; offset += PAGE) {
      const page = await store.listDevices({ limit: PAGE, offset, nsPeer: source.name });
      for (const d of page) if (d.overlapNsPeer === null && selected(request.selection, d)) devEUIs.push(d.devEUI);
      if (page.length < PAGE) break;
    }
  }
  // Forward: one registration on the target, one deregistration from the source per device.
  const callsOf = (peer: NetworkServerPeer): MigrationPlan['calls'][number] => {
    const rate = limitFor(request.limits, peer.vendor).ratePerSecond;
    return { peer: peer.name, vendor: peer.vendor, calls: devEUIs.length, ratePerSecond: rate, seconds: devEUIs.length / rate };
  };
  return { request, source, target, devEUIs, skipped, calls: [callsOf(target), callsOf(source)] };
}

const PAGE = 1000;

/** Writes the migration and its journal (every device `planned`), audited. */
export async function createMigration(store: Store, plan: MigrationPlan, actor: string, now = new Date()): Promise<FleetMigration> {
  if (plan.devEUIs.length === 0) throw new MigrationError('no-devices', `no device to move: ${describeSelection(plan.request.selection)} (${plan.source.name}) selects none`);
  const r = plan.request;
  const migration: FleetMigration = {
    id: `mig-${randomBytes(6).toString('hex')}`,
    sourcePeer: r.sourcePeer,
    targetPeer: r.targetPeer,
    strategy: r.strategy,
    selection: r.selection,
    limits: r.limits,
    deadline: r.deadline,
    rollbackAtDeadline: r.rollbackAtDeadline,
    maxAttempts: r.maxAttempts,
    status: 'running',
    createdAt: now,
    createdBy: actor,
    finishedAt: null,
  };
  const audit: AuditEvent = {
    at: now,
    actor,
    tenantID: null,
    source: null,
    action: 'migration.created',
    devEUI: null,
    detail: {
      migration: migration.id,
      source: r.sourcePeer,
      target: r.targetPeer,
      strategy: r.strategy,
      devices: plan.devEUIs.length,
      selection: JSON.stringify(deviceSelectionJSON(r.selection)),
      deadline: r.deadline?.toISOString() ?? null,
      rollbackAtDeadline: r.rollbackAtDeadline,
    },
  };
  try {
    await store.insertFleetMigration(migration, plan.devEUIs, audit);
  } catch (err) {
    if (err instanceof MigrationConflictError) throw new MigrationError('device-in-another-migration', err.message);
    throw err;
  }
  return migration;
}
