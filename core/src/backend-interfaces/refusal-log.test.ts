import type { Logger } from '../log/logger';
import { RefusalLog } from './refusal-log';

describe('backend-interfaces/refusal-log', () => {
  test('one line per (address, reason) per interval; the refusals in between counted on the next line', () => {
    const lines: Record<string, unknown>[] = [];
    const log = { warn: (fields: Record<string, unknown>) => lines.push(fields) } as unknown as Logger;
    let now = 1_000_000;
    const refusals = new RefusalLog(log, { intervalMs: 10_000, now: () => now });
    for (let i = 0; i < 5; i++) refusals.refused('10.0.0.1', 'not JSON');
    refusals.refused('10.0.0.1', 'too large');
    refusals.refused('10.0.0.2', 'not JSON');
    expect(lines).toEqual([
      { address: '10.0.0.1', reason: 'not JSON', suppressed: 0 },
      { address: '10.0.0.1', reason: 'too large', suppressed: 0 },
      { address: '10.0.0.2', reason: 'not JSON', suppressed: 0 },
    ]);
    now += 9_999;
    refusals.refused('10.0.0.1', 'not JSON');
    expect(lines).toHaveLength(3);
    now += 1;
    refusals.refused('10.0.0.1', 'not JSON', 'detail');
    expect(lines[3]).toEqual({ address: '10.0.0.1', reason: 'not JSON', detail: 'detail', suppressed: 5 });
  });

  test('bounded: the least recently logged pair is forgotten first', () => {
    const lines: unknown[] = [];
    const log = { warn: (fields: unknown) => lines.push(fields) } as unknown as Logger;
    const refusals = new RefusalLog(log, { maxEntries: 2, now: () => 0 });
    for (const a of ['a', 'b', 'c', 'a']) refusals.refused(a, 'wrong method');
    expect(lines).toHaveLength(4);
    refusals.refused('c', 'wrong method');
    expect(lines).toHaveLength(4);
  });
});
