import { type JoinRecord, type EUI64, type Store } from '@joinery/core';
import { parseEUI64 } from '../../../../core/src/lorawan/identifiers';
import type { StoreConformance } from './conformance-context';

/** The join history: appends, pruning, reads. */
export function joinHistoryConformance(c: StoreConformance): void {
  const { open, tag, eui, nsName, newDevice } = c;
  let store: Store;
  beforeAll(() => {
    store = c.store;
  });

  describe('join history', () => {
    function joinRecord(devEUI: EUI64, n: number, overrides: Partial<JoinRecord> = {}): JoinRecord {
      return {
        devEUI,
        joinEUI: parseEUI64('70b3d57ed0000000'),
        at: new Date(1_700_000_000_000 + n * 1000),
        peer: nsName('ns-eu'),
        joinType: 'join',
        macVersion: '1.0.3',
        result: n % 2 === 0 ? 'Success' : 'JoinReqFailed',
        description: n % 2 === 0 ? null : `DevNonce ${n} already used`,
        devNonce: n,
        joinNonce: n % 2 === 0 ? n : null,
        ...overrides,
      };
    }

    test("a peer's join results since a time, by result code", async () => {
      await store.insertDevices([newDevice(0x7a101), newDevice(0x7a102)]);
      const peer = nsName('results');
      await store.appendJoinRecords(
        [
          joinRecord(eui(0x7a101), 10, { peer, result: 'Success' }),
          joinRecord(eui(0x7a101), 20, { peer, result: 'MICFailed' }),
          joinRecord(eui(0x7a102), 30, { peer, result: 'Success' }),
          joinRecord(eui(0x7a102), 40, { peer: nsName('results-other'), result: 'Success' }),
          joinRecord(eui(0x7a102), 1, { peer, result: 'JoinReqFailed' }), // before `since`
        ],
        10,
      );
      expect(await store.peerJoinResults(peer, new Date(1_700_000_000_000 + 10 * 1000))).toEqual({ MICFailed: 1, Success: 2 });
      expect(await store.peerJoinResults(nsName('nobody'), new Date(0))).toEqual({});
    });

    test('appends records of known devices only, lists them newest first, keeps the newest `keep` per device', async () => {
      await store.insertDevices([newDevice(0x7001), newDevice(0x7002)]);
      const unknown = eui(0x70ff);
      const stored = await store.appendJoinRecords([joinRecord(eui(0x7001), 1), joinRecord(unknown, 2), joinRecord(eui(0x7002), 3, { joinType: 'rejoin-1', macVersion: '1.1' })], 3);
      expect(stored).toBe(2);
      expect(await store.listJoinRecords(unknown, 10)).toEqual([]);
      expect(await store.listJoinRecords(eui(0x7002), 10)).toEqual([joinRecord(eui(0x7002), 3, { joinType: 'rejoin-1', macVersion: '1.1' })]);

      // Two more batches (one through a second handle): the device keeps its newest 3.
      await store.appendJoinRecords(
        [2, 3].map((n) => joinRecord(eui(0x7001), n)),
        3,
      );
      const other = await open();
      await other.appendJoinRecords(
        [4, 5].map((n) => joinRecord(eui(0x7001), n)),
        3,
      );
      const history = await store.listJoinRecords(eui(0x7001), 10);
      expect(history.map((r) => r.devNonce)).toEqual([5, 4, 3]);
      expect(history[1]).toEqual(joinRecord(eui(0x7001), 4));
      expect((await store.listJoinRecords(eui(0x7001), 2)).map((r) => r.devNonce)).toEqual([5, 4]);
      // The other device's history is untouched by the first one's pruning.
      expect(await store.listJoinRecords(eui(0x7002), 10)).toHaveLength(1);
      expect(await store.appendJoinRecords([], 3)).toBe(0);
      await expect(store.appendJoinRecords([joinRecord(eui(0x7001), 6)], 0)).rejects.toThrow(RangeError);
    });

    test('a deleted device takes its join history with it', async () => {
      await store.insertDevices([newDevice(0x7003)]);
      await store.appendJoinRecords([joinRecord(eui(0x7003), 1)], 5);
      expect(await store.deleteDevice(eui(0x7003), { at: new Date(), actor: `test-${tag}`, tenantID: null, source: null, action: 'device.delete', devEUI: eui(0x7003), detail: { run: tag } })).toBe(true);
      await store.insertDevices([newDevice(0x7003)]);
      expect(await store.listJoinRecords(eui(0x7003), 5)).toEqual([]);
    });
  });
}
