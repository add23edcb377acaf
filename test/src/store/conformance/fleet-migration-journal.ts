import { MigrationConflictError, type FleetMigration, type EUI64, type JoinCommit, type Store } from '@joinery/core';
import type { AuditEvent } from '../../../../core/src/store/audit-event';
import type { StoreConformance } from './conformance-context';

/** Fleet migrations and their journal. */
export function fleetMigrationJournalConformance(c: StoreConformance): void {
  const { open, run, tag, eui, nsName, newDevice, commit, thrown } = c;
  let store: Store;
  beforeAll(() => {
    store = c.store;
  });

  describe('fleet migrations', () => {
    const source = nsName('mig-src');
    const target = nsName('mig-dst');
    const migration = (id: string, over: Partial<FleetMigration> = {}): FleetMigration => ({
      id,
      sourcePeer: source,
      targetPeer: target,
      strategy: 'overlap',
      selection: { kind: 'all' },
      limits: { chirpstack: { ratePerSecond: 5, concurrency: 2 } },
      deadline: new Date(1_900_000_000_000),
      rollbackAtDeadline: true,
      maxAttempts: 3,
      status: 'running',
      createdAt: new Date(1_800_000_000_000),
      createdBy: 'test',
      finishedAt: null,
      ...over,
    });
    const audit = (action: string, devEUI: EUI64 | null = null): AuditEvent => ({ at: new Date(), actor: `test-${tag}`, tenantID: null, source: null, action, devEUI, detail: { run: tag } });
    const id = (n: number): string => `mig-${run}000${n}`.slice(0, 16).padEnd(16, '0');
    const overlap = { nsPeer: source, overlapNsPeer: target };
    const alone = (nsPeer: string) => ({ nsPeer, overlapNsPeer: null });

    test('migrations/create with its journal and audit entry, read back, list, count, page, status', async () => {
      await store.insertDevices([200, 201, 202].map((i) => newDevice(i, { nsPeer: source })));
      const m = migration(id(1));
      await store.insertFleetMigration(m, [eui(202), eui(200), eui(201), eui(200)], audit('migration.created'));
      expect(await store.getFleetMigration(m.id)).toEqual(m);
      expect((await store.listFleetMigrations(1000)).map((x) => x.id)).toContain(m.id);
      expect(await store.countMigrationEntries(m.id)).toEqual({ planned: 3 });
      const first = await store.listMigrationEntries(m.id, { limit: 2 });
      expect(first.map((e) => e.devEUI)).toEqual([eui(200), eui(201)]);
      expect(first[0]).toMatchObject({ migrationID: m.id, state: 'planned', attempts: 0, failedStep: null, lastError: null, reboundAt: null, joinedAt: null });
      expect((await store.listMigrationEntries(m.id, { limit: 10, afterDevEUI: eui(201) })).map((e) => e.devEUI)).toEqual([eui(202)]);
      expect(await store.listMigrationEntries(m.id, { limit: 10, states: ['parked'] })).toEqual([]);
      expect((await store.listAuditEvents({ limit: 50 })).some((a) => a.action === 'migration.created' && a.detail['run'] === tag)).toBe(true);
      expect(await store.setFleetMigrationStatus(m.id, 'finished', audit('migration.finished'))).toBe(true);
      const finished = await store.getFleetMigration(m.id);
      expect(finished).toMatchObject({ status: 'finished' });
      expect(finished!.finishedAt).toBeInstanceOf(Date);
      expect(await store.setFleetMigrationStatus(`mig-${run}ffff`, 'finished', audit('x'))).toBe(false);
      expect(await store.getFleetMigration(`mig-${run}ffff`)).toBeNull();
    });

    test('migrations/a device still in one migration cannot enter another (nothing written); a done one can', async () => {
      await store.insertDevices([210, 211].map((i) => newDevice(i, { nsPeer: source })));
      await store.insertFleetMigration(migration(id(2)), [eui(210)], audit('migration.created'));
      const err = await thrown(store.insertFleetMigration(migration(id(3)), [eui(211), eui(210)], audit('migration.created')));
      expect(err).toBeInstanceOf(MigrationConflictError);
      expect(err).toMatchObject({ devEUI: eui(210), otherMigrationID: id(2) });
      expect(await store.getFleetMigration(id(3))).toBeNull();
      expect(await store.advanceMigrationEntry(id(2), eui(210), 'planned', { state: 'done' })).toBe(true);
      await store.insertFleetMigration(migration(id(3)), [eui(211), eui(210)], audit('migration.created'));
      expect(await store.countMigrationEntries(id(3))).toEqual({ planned: 2 });
    });

    test('migrations/journal transitions are conditional: a replayed step writes nothing', async () => {
      await store.insertDevices([newDevice(220, { nsPeer: source })]);
      await store.insertFleetMigration(migration(id(4)), [eui(220)], audit('migration.created'));
      expect(await store.advanceMigrationEntry(id(4), eui(220), 'planned', { state: 'planned', attempts: 1, lastError: 'UNAVAILABLE' })).toBe(true);
      expect(await store.advanceMigrationEntry(id(4), eui(220), 'planned', { state: 'registered', attempts: 0, lastError: null })).toBe(true);
      // The same step again (a run killed after its write, resumed): nothing happens.
      expect(await store.advanceMigrationEntry(id(4), eui(220), 'planned', { state: 'registered', attempts: 0 })).toBe(false);
      expect(await store.advanceMigrationEntry(id(4), eui(221), 'planned', { state: 'registered' })).toBe(false);
      const [e] = await store.listMigrationEntries(id(4), { limit: 1 });
      expect(e).toMatchObject({ state: 'registered', attempts: 0, lastError: null });
      expect(await store.advanceMigrationEntry(id(4), eui(220), 'registered', { state: 'parked', failedStep: 'registered', lastError: 'x', attempts: 3 })).toBe(true);
      expect((await store.listMigrationEntries(id(4), { limit: 1, states: ['parked'] }))[0]).toMatchObject({ state: 'parked', failedStep: 'registered', lastError: 'x', attempts: 3 });
    });

    test('migrations/rebinding moves binding and journal together, once; a changed binding writes nothing', async () => {
      await store.insertDevices([230, 231].map((i) => newDevice(i, { nsPeer: source })));
      await store.insertFleetMigration(migration(id(5)), [eui(230), eui(231)], audit('migration.created'));
      for (const i of [230, 231]) expect(await store.advanceMigrationEntry(id(5), eui(i), 'planned', { state: 'registered' })).toBe(true);
      const reboundAt = new Date(Date.now() - 60_000);
      const rebinding = {
        migrationID: id(5),
        devEUI: eui(230),
        from: 'registered' as const,
        change: { state: 'rebound' as const, reboundAt },
        bindingFrom: [alone(source)],
        bindingTo: overlap,
        audit: audit('device.rebound', eui(230)),
      };
      expect(await store.rebindMigratingDevice(rebinding)).toBe('rebound');
      const d = await store.getDevice(eui(230));
      expect(d).toMatchObject({ nsPeer: source, overlapNsPeer: target, version: 1 });
      expect((await store.listMigrationEntries(id(5), { limit: 1 }))[0]).toMatchObject({ state: 'rebound', reboundAt });
      // Replayed: the journal moved on, so nothing is written (no second audit entry either).
      expect(await store.rebindMigratingDevice(rebinding)).toBe('already');
      expect((await store.getDevice(eui(230)))!.version).toBe(1);
      expect((await store.listAuditEvents({ devEUI: eui(230), limit: 10 })).filter((a) => a.action === 'device.rebound')).toHaveLength(1);
      // Someone else rebound 231 meanwhile: neither the journal nor the binding changes.
      expect(await store.rebindMigratingDevice({ ...rebinding, devEUI: eui(231), bindingFrom: [alone(nsName('elsewhere'))], audit: audit('device.rebound', eui(231)) })).toBe('binding-changed');
      expect(await store.getDevice(eui(231))).toMatchObject({ nsPeer: source, overlapNsPeer: null, version: 0 });
      expect((await store.listMigrationEntries(id(5), { limit: 1, afterDevEUI: eui(230) }))[0]).toMatchObject({ state: 'registered' });
      expect(await store.listAuditEvents({ devEUI: eui(231), limit: 10 })).toEqual([]);
    });

    test('migrations/arrivals: a join through the target after the rebinding, and only that', async () => {
      await store.insertDevices([240, 241, 242].map((i) => newDevice(i, { nsPeer: source })));
      await store.insertFleetMigration(migration(id(6)), [eui(240), eui(241), eui(242)], audit('migration.created'));
      const reboundAt = new Date(Date.now() - 10_000);
      for (const i of [240, 241, 242]) {
        await store.advanceMigrationEntry(id(6), eui(i), 'planned', { state: 'registered' });
        expect(
          await store.rebindMigratingDevice({
            migrationID: id(6),
            devEUI: eui(i),
            from: 'registered',
            change: { state: 'rebound', reboundAt },
            bindingFrom: [alone(source)],
            bindingTo: overlap,
            audit: audit('device.rebound', eui(i)),
          }),
        ).toBe('rebound');
      }
      const join = (i: number, peer: string, at: Date): JoinCommit => ({ ...commit(eui(i), 1, 7), peer, joinedAt: at });
      expect(await store.commitJoin(join(240, target, new Date()))).toBe(true);
      expect(await store.commitJoin(join(241, source, new Date()))).toBe(true); // through the source: not an arrival
      expect(await store.commitJoin(join(242, target, new Date(reboundAt.getTime() - 5000)))).toBe(true); // before the rebinding
      const arrivals = await store.listMigrationArrivals(id(6), target, 100);
      expect(arrivals.map((a) => a.devEUI)).toEqual([eui(240)]);
      expect(arrivals[0]!.joinedAt).toBeInstanceOf(Date);
      expect(
        await store.rebindMigratingDevice({
          migrationID: id(6),
          devEUI: eui(240),
          from: 'rebound',
          change: { state: 'joined', joinedAt: arrivals[0]!.joinedAt },
          bindingFrom: [overlap],
          bindingTo: alone(target),
          audit: audit('device.rebound', eui(240)),
        }),
      ).toBe('rebound');
      expect(await store.getDevice(eui(240))).toMatchObject({ nsPeer: target, overlapNsPeer: null });
      expect(await store.listMigrationArrivals(id(6), target, 100)).toEqual([]);
    });

    test('migrations/resume from another handle: the journal is the only state', async () => {
      await store.insertDevices([newDevice(250, { nsPeer: source })]);
      await store.insertFleetMigration(migration(id(7), { strategy: 'cutover', deadline: null, rollbackAtDeadline: false }), [eui(250)], audit('migration.created'));
      await store.advanceMigrationEntry(id(7), eui(250), 'planned', { state: 'registered' });
      const other = await open();
      expect(await other.getFleetMigration(id(7))).toMatchObject({ strategy: 'cutover', deadline: null, selection: { kind: 'all' } });
      expect((await other.listMigrationEntries(id(7), { limit: 1 }))[0]).toMatchObject({ state: 'registered' });
      // Two runners racing on one step: exactly one wins.
      const results = await Promise.all([store, other, store, other].map((s) => s.advanceMigrationEntry(id(7), eui(250), 'registered', { state: 'rebound' })));
      expect(results.filter(Boolean)).toHaveLength(1);
    });
  });
}
