import type { EUI64 } from '../../lorawan/identifiers';
import type { Device, JoinCommit } from '../device';
import { GroupCommitter, ItemFailure, type GroupCommitOptions } from '../group-commit';
import type { JoinState } from '../ports/join-state';
import type { SessionRecord } from '../session';
import { DEVICE_COLUMNS, deviceFromRow, type DeviceRow } from '../sql/device-registry-sql';
import { checkKeep, getSession, SESSION_COLUMNS, sessionValues } from '../sql/join-state-sql';
import { sqlState, type PostgresRunner } from './postgres-sql';

/**
 * Array parameter `$k` of a batch statement, read through a sub-select (an InitPlan) so that no
 * plan depends on its length. PostgreSQL plans a prepared statement for its parameters' values
 * at each of its first five executions, then keeps its generic plan only if that costs no more
 * than those did. Seeing the arrays (a batch of 2 devices, not the generic 10), the plans for the
 * values always looked cheaper, so READ_DEVICES and COMMIT_JOINS were planned again at every
 * execution, which cost the database more than running them (bench/README.md). Through a
 * sub-select every plan is the generic one, planned once per connection; the index on dev_eui
 * takes the sub-select's array as it takes a parameter.
 */
function unplanned(k: number, type: string): string {
  // The cast after it: `= ANY ((SELECT ...))` alone would be read as ANY over the sub-select's rows.
  return `(SELECT $${k}::${type}[])::${type}[]`;
}

/** The conditional nonce write of one join: the statement the whole design rests on. Its values: `commitRow`. */
const COMMIT_JOIN = `
  UPDATE devices
     SET last_dev_nonce = $3, used_dev_nonces = $4::INTEGER[], last_join_nonce = $5, last_rj_count1 = $6,
         last_rj_count0 = $9, rejoin_window_start = $10, rejoin_window_count = $11,
         last_join_at = $7, last_join_peer = $8, version = version + 1,
         activated_at = COALESCE(activated_at, $7), activated_tenant = COALESCE(activated_tenant, owner_tenant)
   WHERE dev_eui = $1 AND version = $2`;

/**
 * The conditional nonce writes of a group commit's round, as one statement whatever the number
 * of commits (each column an array, one prepared statement for every batch size), sent alone:
 * its own implicit transaction, one round trip, one WAL flush.
 *
 * `locked` takes the rows' locks in DevEUI order before the UPDATE touches any row: the
 * uncorrelated `(SELECT count(*) FROM locked)` is a one-time filter at the top of the plan, run
 * before the first row of `devices` is fetched, and a CTE with a locking clause is never folded
 * into the query. So two instances' batches lock in the same order and never deadlock. A row
 * changed by another transaction while the lock was awaited is re-checked against its committed
 * version (READ COMMITTED's re-check of an updated row), so the write stays conditional on the
 * version.
 *
 * The lock is FOR NO KEY UPDATE, the one the UPDATE itself takes (it changes no key column): it
 * excludes every other writer of the row as FOR UPDATE would, but not the FOR KEY SHARE locks
 * that the join history's batches (and foreign keys) hold on devices, so a join commit never
 * waits for a history write. With FOR UPDATE it did, for the whole of that transaction.
 *
 * `d.dev_eui = ANY($1)` repeats what the join to `v` implies, so that `devices` is read through
 * its index whatever plan the join gets. PostgreSQL settles on a generic plan for a prepared
 * statement, which does not know the batch's size (it assumes 10 rows of `unnest`): on a table of
 * a few thousand devices with no statistics yet, that plan joined them by a sequential scan,
 * every device read at every commit (bench/README.md).
 *
 * `used_dev_nonces` travels as array literals (`{1,2}`) in a TEXT[]: unnest cannot take an
 * array of arrays of different lengths.
 */
export const COMMIT_JOINS = {
  name: 'joinery_commit_joins',
  text: `
  WITH locked AS (SELECT dev_eui FROM devices WHERE dev_eui = ANY(${unplanned(1, 'TEXT')}) ORDER BY dev_eui FOR NO KEY UPDATE)
  UPDATE devices AS d
     SET last_dev_nonce = v.last_dev_nonce, used_dev_nonces = v.used_dev_nonces::INTEGER[], last_join_nonce = v.last_join_nonce,
         last_rj_count1 = v.last_rj_count1, last_rj_count0 = v.last_rj_count0, rejoin_window_start = v.rejoin_window_start,
         rejoin_window_count = v.rejoin_window_count, last_join_at = v.joined_at, last_join_peer = v.peer, version = d.version + 1,
         activated_at = COALESCE(d.activated_at, v.joined_at), activated_tenant = COALESCE(d.activated_tenant, d.owner_tenant)
    FROM unnest(${['TEXT', 'BIGINT', 'INTEGER', 'TEXT', 'INTEGER', 'INTEGER', 'TIMESTAMPTZ', 'TEXT', 'INTEGER', 'TIMESTAMPTZ', 'INTEGER'].map((type, i) => unplanned(i + 1, type)).join(', ')})
      AS v (dev_eui, expected_version, last_dev_nonce, used_dev_nonces, last_join_nonce, last_rj_count1, joined_at, peer,
            last_rj_count0, rejoin_window_start, rejoin_window_count)
   WHERE d.dev_eui = ANY(${unplanned(1, 'TEXT')}) AND d.dev_eui = v.dev_eui AND d.version = v.expected_version AND (SELECT count(*) FROM locked) > 0
  RETURNING d.dev_eui`,
};

/**
 * The devices of a batch of reads (see `deviceForJoin`) and the peers' change counter, in one
 * statement and one snapshot: the counter rides on the reads the joins send anyway (see
 * `peersChanges`). Always one row at least: the counter's, with no device when none matched.
 */
export const READ_DEVICES = {
  name: 'joinery_read_devices',
  text: `SELECT c.peers_changes, d.* FROM (SELECT (SELECT peers FROM change_counters WHERE id = 1) AS peers_changes) AS c
  LEFT JOIN (SELECT ${DEVICE_COLUMNS} FROM devices WHERE dev_eui = ANY(${unplanned(1, 'TEXT')})) AS d ON TRUE`,
};

/** The peers' change counter alone: the read of `peersChanges` when reads are not batched. */
const READ_CHANGES = { name: 'joinery_read_changes', text: 'SELECT peers FROM change_counters WHERE id = 1' };

/**
 * Group commits at once, each on its connection: while one waits for its WAL flush the next is
 * sent, and PostgreSQL flushes them together. A device's commits keep their arrival order (a
 * commit waits while an earlier one of its device is in flight); two batches lock their rows in
 * DevEUI order, so they never deadlock. Measured (bench/README.md): joins at c16 +15% against
 * one at a time.
 */
const COMMITS_IN_FLIGHT = 2;

/**
 * Read queries at once. Measured (bench/README.md): one at a time, the counter of a turn
 * waited for the reads in flight and the joins slowed; four, the reads and the counter of a
 * turn share one query and the rate held.
 */
const READS_IN_FLIGHT = 4;

/** What a batched read is asked for: a device, or only the peers' change counter. */
const COUNTER_ONLY = Symbol('the change counter only');
type ReadRequest = EUI64 | typeof COUNTER_ONLY;

/** A row of READ_DEVICES: a device's, or the counter's alone. */
type BatchRow = (DeviceRow | { readonly dev_eui: null }) & { readonly peers_changes: string | null };

/** What every read of a batch gets: its device (null: none, or none asked for) and the batch's counter. */
interface BatchRead {
  readonly device: Device | null;
  readonly peersChanges: number;
}

/** A counter read as PostgreSQL sends a BIGINT (a string), or none (no counter row: never changed). */
function counterValue(value: string | number | null | undefined): number {
  return value === null || value === undefined ? 0 : Number(value);
}

/**
 * A commit's values, in the order of COMMIT_JOIN's parameters and of COMMIT_JOINS's arrays.
 * `usedDevNonces` as an array literal (`{1,2}`), which both statements cast.
 */
function commitRow(c: JoinCommit): unknown[] {
  const n = c.nonces;
  return [c.devEUI, c.expectedVersion, n.lastDevNonce, `{${n.usedDevNonces.join(',')}}`, n.lastJoinNonce, n.lastRJCount1, c.joinedAt, c.peer, n.lastRJCount0, n.rejoinWindow?.start ?? null, n.rejoinWindow?.count ?? 0];
}

/** COMMIT_JOINS's parameters: one array a column, one element a commit. */
function commitArrays(commits: readonly JoinCommit[]): unknown[][] {
  const columns: unknown[][] = Array.from({ length: 11 }, () => []);
  for (const c of commits) commitRow(c).forEach((value, i) => columns[i]!.push(value));
  return columns;
}

/**
 * The join's read and write on PostgreSQL, by hand.
 *
 * - The nonce check-and-update is one conditional UPDATE (`... WHERE dev_eui = $1 AND version
 *   = $2`): under PostgreSQL's READ COMMITTED a racing UPDATE waits for the row lock, then
 *   re-checks the version against the committed row, so of any number of instances committing
 *   with the same expected version exactly one succeeds. There is no read-then-write window.
 * - Group commit: concurrent `commitJoin` calls of this process are batched (see
 *   GroupCommitter); a batch is one statement (COMMIT_JOINS: the rows locked in DevEUI order,
 *   then one conditional UPDATE of them all, `RETURNING dev_eui`). A statement holds at most one
 *   commit per device: a second commit of a device in the batch goes in a next statement, sent
 *   after the first's answer, in arrival order, so two commits of one device behave as if run
 *   one after the other (the second sees the first's version). With two batches in flight
 *   (COMMITS_IN_FLIGHT), a commit of a device whose earlier commit is in flight waits for it.
 */
export class PostgresJoinState implements JoinState {
  readonly #sql: PostgresRunner;
  readonly #committer: GroupCommitter<JoinCommit, boolean> | null;
  readonly #reader: GroupCommitter<ReadRequest, BatchRead> | null;

  constructor(sql: PostgresRunner, groupCommit: GroupCommitOptions | false) {
    this.#sql = sql;
    // Two group commits at once, a device's commits in arrival order (see COMMITS_IN_FLIGHT).
    this.#committer =
      groupCommit === false
        ? null
        : new GroupCommitter(
            (commits) => this.#commitGroup(commits),
            { maxInFlight: COMMITS_IN_FLIGHT, ...groupCommit },
            (c) => c.devEUI,
          );
    // Reads have no order to keep: the reads of a turn go together at its end, without waiting
    // for the reads in flight (up to READS_IN_FLIGHT queries at once).
    this.#reader = groupCommit === false ? null : new GroupCommitter((requests) => this.#readBatch(requests), { maxBatch: groupCommit.maxBatch, maxInFlight: READS_IN_FLIGHT, dispatchWhenIdle: false });
  }

  /**
   * A device as committed when the read was asked for. With group commit on, the reads asked
   * in one turn of the event loop are one `WHERE dev_eui = ANY($1)` query, sent at the turn's
   * end (GroupCommitter). A read joins only a query sent after it was asked for, so it sees
   * every commit that finished before.
   */
  async deviceForJoin(devEUI: EUI64): Promise<Device | null> {
    return this.#reader === null ? this.#readDevice(devEUI) : (await this.#reader.submit(devEUI)).device;
  }

  /**
   * The peers' change counter (the store's ChangeWatch asks once per turn of the event loop).
   * With group commit on it is asked of the batched reads like a device: it goes in the query
   * of the turn's device reads, so under load the counter costs no round trip of its own, and
   * like a device read it reflects every change committed before it was asked for: a peer
   * changed through another instance is seen from the next turn on.
   */
  async peersChanges(): Promise<number> {
    if (this.#reader !== null) return (await this.#reader.submit(COUNTER_ONLY)).peersChanges;
    const rows = await this.#sql.prepared<{ peers: string | null }>('reading the change counters', READ_CHANGES, []);
    return counterValue(rows[0]?.peers);
  }

  async #readBatch(requests: readonly ReadRequest[]): Promise<BatchRead[]> {
    const devEUIs = requests.filter((r): r is EUI64 => r !== COUNTER_ONLY);
    const rows = await this.#sql.prepared<BatchRow & Record<string, unknown>>('reading devices', READ_DEVICES, [devEUIs]);
    const peersChanges = counterValue(rows[0]?.peers_changes);
    const byEUI = new Map<string, DeviceRow>();
    for (const row of rows) if (row.dev_eui !== null) byEUI.set(row.dev_eui, row);
    return requests.map((r) => {
      const row = r === COUNTER_ONLY ? undefined : byEUI.get(r);
      return { device: row ? deviceFromRow(row) : null, peersChanges };
    });
  }

  async #readDevice(devEUI: EUI64): Promise<Device | null> {
    const rows = await this.#sql.query<DeviceRow & Record<string, unknown>>('reading a device', `SELECT ${DEVICE_COLUMNS} FROM devices WHERE dev_eui = $1`, [devEUI]);
    return rows[0] ? deviceFromRow(rows[0]) : null;
  }

  async commitJoin(commit: JoinCommit): Promise<boolean> {
    if (this.#committer === null) return this.#commitOne(commit);
    return this.#committer.submit(commit);
  }

  /** Group-commit batches and commits so far; null when group commit is off. */
  get groupCommitStats(): { readonly batches: number; readonly items: number } | null {
    return this.#committer?.stats ?? null;
  }

  /** Lets the queued commits finish. */
  drain(): Promise<void> {
    return this.#committer?.drain() ?? Promise.resolve();
  }

  /** One commit, one statement, its own (implicit) transaction. */
  async #commitOne(commit: JoinCommit): Promise<boolean> {
    return (await this.#sql.changes('committing a join', COMMIT_JOIN, commitRow(commit))) === 1;
  }

  /**
   * A group of concurrent commits: one statement a round (a round holds at most one commit per
   * device, see `rounds`; nearly always the whole batch is one round). A round that fails on bad
   * data (SQLSTATE class 22 or 23) is committed again one by one (in arrival order), so one bad
   * commit does not fail the others; any other failure (the server gone) fails the rest of the
   * group. Running a commit again after an ambiguous failure is safe: it is conditional on its
   * version, so it cannot apply twice.
   */
  async #commitGroup(commits: readonly JoinCommit[]): Promise<Array<boolean | ItemFailure>> {
    if (commits.length === 1) {
      try {
        return [await this.#commitOne(commits[0]!)];
      } catch (err) {
        return [new ItemFailure(err)];
      }
    }
    const results: Array<boolean | ItemFailure> = commits.map(() => false);
    for (const round of rounds(commits)) {
      try {
        const updated = await this.#sql.prepared<{ dev_eui: string }>('committing joins', COMMIT_JOINS, commitArrays(round.map((i) => commits[i]!)));
        const ok = new Set(updated.map((r) => r.dev_eui));
        for (const i of round) results[i] = ok.has(commits[i]!.devEUI);
      } catch (err) {
        const code = sqlState(err) ?? (err as { code?: string }).code;
        if (code === undefined || !(code.startsWith('22') || code.startsWith('23'))) throw err;
        for (const i of round) {
          try {
            results[i] = await this.#commitOne(commits[i]!);
          } catch (e) {
            results[i] = new ItemFailure(e);
          }
        }
      }
    }
    return results;
  }

  /**
   * Inserts the session and deletes all but the newest `keep` of the device (newest = latest
   * `createdAt`, then latest inserted), in one transaction that holds the device's row lock, so
   * two sessions of one device added at once still leave exactly `keep`.
   */
  async addSession(session: SessionRecord, keep: number): Promise<void> {
    checkKeep('addSession', keep);
    await this.#sql.transactionWith('adding a session', async (client) => {
      await client.query('SELECT dev_eui FROM devices WHERE dev_eui = $1 FOR UPDATE', [session.devEUI]);
      await client.query(`INSERT INTO sessions (${SESSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)`, sessionValues(session));
      await client.query(
        `DELETE FROM sessions
          WHERE dev_eui = $1
            AND seq NOT IN (SELECT seq FROM sessions WHERE dev_eui = $1 ORDER BY created_at DESC, seq DESC LIMIT $2)`,
        [session.devEUI, keep],
      );
    });
  }

  getSession(devEUI: EUI64, sessionKeyID: string): Promise<SessionRecord | null> {
    return this.#sql.run('reading a session', getSession(devEUI, sessionKeyID));
  }
}

/**
 * The indexes of a group's commits cut into rounds, in arrival order: a device's first commit
 * in the first round, its second in the second... so a round never holds a device twice.
 */
function rounds(commits: readonly JoinCommit[]): number[][] {
  const out: number[][] = [];
  const perDevice = new Map<string, number>();
  commits.forEach((commit, index) => {
    const round = perDevice.get(commit.devEUI) ?? 0;
    perDevice.set(commit.devEUI, round + 1);
    (out[round] ??= []).push(index);
  });
  return out;
}
