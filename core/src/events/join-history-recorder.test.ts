import type { JoinRecord } from '../store/join-record';
import { JoinHistoryPartlyWrittenError } from '../store/join-history-partly-written';
import { JoineryMetrics } from '../metrics/metrics';
import type { JoinEvent } from './join-event';
import { JoinHistoryRecorder } from './join-history-recorder';

const event = (n: number): JoinEvent => ({
  messageType: 'JoinReq',
  joinType: 'join',
  devEUI: n.toString(16).padStart(16, '0'),
  joinEUI: '70b3d57ed0000000',
  tenant: 'operator',
  peer: 'ns',
  macVersion: '1.0.3',
  result: 'Success',
  joinNonce: n,
  devNonce: n,
  time: new Date(1_700_000_000_000 + n).toISOString(),
  latencyMs: 1,
});

async function outcomes(metrics: JoineryMetrics): Promise<Record<string, number>> {
  const values = (await metrics.joinHistory.get()).values;
  return Object.fromEntries(values.map((v) => [String(v.labels.outcome), v.value]));
}

/** A store whose append of a batch fails as `fail` says, after taking the records. */
function failingStore(fail: (records: readonly JoinRecord[]) => never): { appendJoinRecords: (records: readonly JoinRecord[], keep: number) => Promise<number> } {
  return { appendJoinRecords: async (records) => fail(records) };
}

test('a batch written in part counts what was written as written, and only the rest as failed', async () => {
  const metrics = new JoineryMetrics();
  // Of a batch of 10, the first 6 were handled (5 stored, 1 of an unknown device) before the failure.
  const recorder = new JoinHistoryRecorder(
    failingStore(() => {
      throw new JoinHistoryPartlyWrittenError(6, 5, new Error('database or disk is full'));
    }),
    { batchSize: 10 },
    metrics,
  );
  for (let n = 1; n <= 10; n++) recorder.record(event(n));
  await recorder.close();
  expect(await outcomes(metrics)).toEqual({ stored: 5, 'unknown-device': 1, failed: 4 });
});

test('a batch that failed before any record counts all of it as failed', async () => {
  const metrics = new JoineryMetrics();
  const recorder = new JoinHistoryRecorder(
    failingStore(() => {
      throw Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
    }),
    { batchSize: 10 },
    metrics,
  );
  for (let n = 1; n <= 10; n++) recorder.record(event(n));
  await recorder.close();
  expect(await outcomes(metrics)).toEqual({ stored: 0, failed: 10 });
});
