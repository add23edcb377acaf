import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { KEY_LIFETIME_MS, TICKET_KEYS_FILE, loadOrCreateTicketKeys, startTicketKeyRotation, type TicketKeys } from './session-ticket-keys';

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ticket-keys-'));
});
afterEach(async () => {
  await fs.chmod(dir, 0o700).catch(() => undefined);
  await fs.rm(dir, { recursive: true, force: true });
});

const T0 = Date.parse('2026-12-01T00:00:00Z');

describe('loadOrCreateTicketKeys', () => {
  test('creates 48 random bytes once, then keeps them while they are less than a day old', async () => {
    const created = await loadOrCreateTicketKeys(dir, T0);
    expect(created.outcome).toEqual({ kind: 'created' });
    expect(created.ticketKeys.keys).toHaveLength(48);
    expect((await fs.stat(path.join(dir, TICKET_KEYS_FILE))).mode & 0o777).toBe(0o600);

    const kept = await loadOrCreateTicketKeys(dir, T0 + KEY_LIFETIME_MS - 1);
    expect(kept.outcome).toEqual({ kind: 'kept' });
    expect(kept.ticketKeys).toEqual(created.ticketKeys);

    const rotated = await loadOrCreateTicketKeys(dir, T0 + KEY_LIFETIME_MS);
    expect(rotated.outcome).toEqual({ kind: 'rotated' });
    expect(rotated.ticketKeys.keys.equals(created.ticketKeys.keys)).toBe(false);
    expect(rotated.ticketKeys.createdAt).toBe(T0 + KEY_LIFETIME_MS);
  });

  test.each([
    ['not JSON', '{', 'not JSON'],
    ['keys too short', JSON.stringify({ createdAt: new Date(T0).toISOString(), keys: 'ab'.repeat(47) }), 'keys: expected 96'],
    ['keys not hex', JSON.stringify({ createdAt: new Date(T0).toISOString(), keys: 'zz'.repeat(48) }), 'keys: expected 96'],
    ['no date', JSON.stringify({ keys: 'ab'.repeat(48) }), 'createdAt: expected'],
    ['a date in the future', JSON.stringify({ createdAt: new Date(T0 + 3_600_000).toISOString(), keys: 'ab'.repeat(48) }), 'in the future'],
  ])('a file with %s is replaced, with the reason', async (_what, text, reason) => {
    await fs.writeFile(path.join(dir, TICKET_KEYS_FILE), text, { mode: 0o600 });
    const { ticketKeys, outcome } = await loadOrCreateTicketKeys(dir, T0);
    expect(outcome).toEqual({ kind: 'replaced', reason: expect.stringContaining(reason) });
    expect(ticketKeys.keys.equals(Buffer.from('ab'.repeat(48), 'hex'))).toBe(false);
    expect((await loadOrCreateTicketKeys(dir, T0)).ticketKeys).toEqual(ticketKeys);
  });

  test('keys in a file group or others can read are never used', async () => {
    const first = await loadOrCreateTicketKeys(dir, T0);
    await fs.chmod(path.join(dir, TICKET_KEYS_FILE), 0o640);
    const again = await loadOrCreateTicketKeys(dir, T0 + 1);
    expect(again.outcome).toEqual({ kind: 'replaced', reason: expect.stringContaining('mode 0640') });
    expect(again.ticketKeys.keys.equals(first.ticketKeys.keys)).toBe(false);
    expect((await fs.stat(path.join(dir, TICKET_KEYS_FILE))).mode & 0o777).toBe(0o600);
  });
});

test('a data directory the keys cannot be written to gives keys of this process alone, and says why', async () => {
  // A file where the directory should be: no write succeeds there, whoever runs the test.
  const notADirectory = path.join(dir, 'file');
  await fs.writeFile(notADirectory, '');
  const { ticketKeys, outcome } = await loadOrCreateTicketKeys(notADirectory, T0);
  expect(outcome).toEqual({ kind: 'unsaved', error: 'ENOTDIR' });
  expect(ticketKeys.keys).toHaveLength(48);
  expect((await loadOrCreateTicketKeys(notADirectory, T0)).ticketKeys.keys.equals(ticketKeys.keys)).toBe(false);
});

describe('startTicketKeyRotation', () => {
  async function rotations(current: TicketKeys, now: () => number, count: number): Promise<{ applied: Buffer[]; reports: Array<{ writeError?: string }> }> {
    const applied: Buffer[] = [];
    const reports: Array<{ writeError?: string }> = [];
    const stop = startTicketKeyRotation(
      dir,
      current,
      (k) => applied.push(k),
      (r) => reports.push(r),
      5,
      now,
    );
    try {
      for (const deadline = Date.now() + 2_000; reports.length < count && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 5));
      // No rotation beyond those: the new keys are not due.
      await new Promise((r) => setTimeout(r, 30));
    } finally {
      stop();
    }
    return { applied, reports };
  }

  test('keys not due are left alone', async () => {
    const { ticketKeys } = await loadOrCreateTicketKeys(dir, T0);
    const { applied } = await rotations(ticketKeys, () => T0 + KEY_LIFETIME_MS - 1, 0);
    expect(applied).toEqual([]);
  });

  test('keys due are replaced once: written first, then applied', async () => {
    const { ticketKeys } = await loadOrCreateTicketKeys(dir, T0);
    const { applied, reports } = await rotations(ticketKeys, () => T0 + KEY_LIFETIME_MS, 1);
    expect(reports).toEqual([{ rotated: true }]);
    expect(applied).toHaveLength(1);
    expect(applied[0]!.equals(ticketKeys.keys)).toBe(false);
    const file = JSON.parse(await fs.readFile(path.join(dir, TICKET_KEYS_FILE), 'utf8')) as { keys: string };
    expect(file.keys).toBe(applied[0]!.toString('hex'));
  });

  test('a file that cannot be written does not keep the old keys in use', async () => {
    const { ticketKeys } = await loadOrCreateTicketKeys(dir, T0);
    await fs.chmod(dir, 0o500);
    if (process.getuid?.() === 0) {
      // root writes anyway: take the directory away instead.
      await fs.chmod(dir, 0o700);
      await fs.rm(dir, { recursive: true });
    }
    const { applied, reports } = await rotations(ticketKeys, () => T0 + KEY_LIFETIME_MS, 1);
    expect(reports).toEqual([{ rotated: true, writeError: expect.any(String) }]);
    expect(applied).toHaveLength(1);
    expect(applied[0]!.equals(ticketKeys.keys)).toBe(false);
  });
});
