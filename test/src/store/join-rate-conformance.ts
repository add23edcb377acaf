import { randomBytes } from 'node:crypto';
import type { EUI64, JoinRecord, NewDevice, Store } from '@joinery/core';
import { parseEUI64 } from '../../../core/src/lorawan/identifiers';
import { parseTenantID } from '../../../core/src/tenants/tenant';

/**
 * Store.joinRate on any store: joins and refusals per minute from the join history, every minute
 * of the window present, through one peer, of one owner's devices. Like the store conformance
 * suite it may run twice on one database: its devices, peers and owner are this run's own.
 */
export function describeJoinRateConformance(name: string, openStore: () => Promise<Store>): void {
  describe(`join rate: ${name}`, () => {
    const run = randomBytes(4).toString('hex');
    let store: Store;
    beforeAll(async () => {
      store = await openStore();
    });
    afterAll(async () => {
      await store.close();
    });

    const eui = (i: number): EUI64 => parseEUI64(`${run}${i.toString(16).padStart(8, '0')}`);
    const peer = `rate-ns-${run}`;
    const otherPeer = `rate-other-${run}`;
    const owner = parseTenantID(`owner-${run}`);
    // Whole minutes, far from the other suites' join records (which are around 2023-11-14).
    const t0 = Date.UTC(2030, 0, 1, 12, 0) + (parseInt(run, 16) % 10_000) * 3_600_000;
    const minute = (m: number, s = 0): Date => new Date(t0 + m * 60_000 + s * 1000);

    function device(i: number, ownership?: NewDevice['ownership']): NewDevice {
      return { devEUI: eui(i), joinEUI: parseEUI64('70b3d57ed0000000'), macVersion: '1.0.3', sealedRootKeys: randomBytes(47), vaultKind: 'software', nsPeer: null, asPeer: null, ...(ownership ? { ownership } : {}) };
    }
    function attempt(i: number, at: Date, result: string, through = peer): JoinRecord {
      return {
        devEUI: eui(i),
        joinEUI: parseEUI64('70b3d57ed0000000'),
        at,
        peer: through,
        joinType: 'join',
        macVersion: '1.0.3',
        result,
        description: result === 'Success' ? null : 'refused',
        devNonce: at.getTime() % 65536,
        joinNonce: null,
      };
    }

    test('joins and refusals per minute, every minute of the window, by peer and by owner', async () => {
      await store.insertTenant(
        { id: owner, name: 'rate owner', roles: ['owner'], createdAt: new Date() },
        { at: new Date(), actor: 'test', tenantID: null, source: null, action: 'tenant.add', devEUI: null, detail: { run } },
      );
      // Device 1: the operator's (no ownership given); device 2: the owner's, claimed at minute 0.
      await store.insertDevices([device(1), device(2, { manufacturer: owner, owner, ownerTokenHash: null, profileID: '00000000' })]);
      const d2 = (await store.getDevice(eui(2)))!;
      expect(
        await store.changeDevice(
          { devEUI: eui(2), expectedVersion: d2.version, owner, ownerTokenHash: null, nsPeer: null, asPeer: null, locked: false, claimedAt: minute(0) },
          { at: new Date(), actor: 'test', tenantID: owner, source: null, action: 'device.claim', devEUI: eui(2), detail: { run } },
        ),
      ).toBe(true);
      await store.appendJoinRecords(
        [
          attempt(1, minute(0, 5), 'Success'),
          attempt(1, minute(0, 40), 'MICFailed'),
          attempt(2, minute(0, 59), 'JoinReqFailed'),
          attempt(2, minute(2, 1), 'Success'),
          attempt(2, minute(2, 30), 'Success', otherPeer),
          attempt(1, minute(3), 'Success'), // at `until`: outside the window
          attempt(1, minute(-1, 59), 'Success'), // before `since`: outside
          attempt(2, minute(-1, 58), 'Success'), // before its claim: not the owner's
        ],
        50,
      );
      const window = { since: minute(0), until: minute(3) };
      expect(await store.joinRate({ since: minute(-1), until: minute(0), ownerTenant: owner })).toEqual([{ at: minute(-1), joins: 0, refusals: 0 }]);
      expect(await store.joinRate({ since: minute(-1), until: minute(0), peer })).toEqual([{ at: minute(-1), joins: 2, refusals: 0 }]);
      const at = (m: number) => minute(m);

      expect(await store.joinRate({ ...window, peer })).toEqual([
        { at: at(0), joins: 1, refusals: 2 },
        { at: at(1), joins: 0, refusals: 0 },
        { at: at(2), joins: 1, refusals: 0 },
      ]);
      expect(await store.joinRate({ ...window, peer, ownerTenant: owner })).toEqual([
        { at: at(0), joins: 0, refusals: 1 },
        { at: at(1), joins: 0, refusals: 0 },
        { at: at(2), joins: 1, refusals: 0 },
      ]);
      // Every peer, of the owner's devices: the other peer's join too.
      expect(await store.joinRate({ ...window, ownerTenant: owner })).toEqual([
        { at: at(0), joins: 0, refusals: 1 },
        { at: at(1), joins: 0, refusals: 0 },
        { at: at(2), joins: 2, refusals: 0 },
      ]);
      // A window not on a minute starts at its minute; a peer with no joins gives zeros.
      expect(await store.joinRate({ since: minute(1, 30), until: minute(2, 30), peer: `nobody-${run}` })).toEqual([
        { at: at(1), joins: 0, refusals: 0 },
        { at: at(2), joins: 0, refusals: 0 },
      ]);
    });
  });
}
