import type { PoolClient } from 'pg';
import type { EUI64 } from '../../lorawan/identifiers';
import type { Device, JoinCommit } from '../device';
import { GroupCommitter, ItemFailure, type GroupCommitOptions } from '../group-commit';
import type { JoinState } from '../ports/join-state';
import type { SessionRecord } from '../session';
import { DEVICE_COLUMNS, deviceFromRow, type DeviceRow } from '../sql/device-registry-sql';
import { checkKeep, getSession, SESSION_COLUMNS, sessionValues } from '../sql/join-state-sql';
import { sqlState, type PostgresRunner } from './postgres-sql';

/** The conditional nonce write of one join: the statement the whole design rests on. */
const COMMIT_JOIN = `
  UPDATE devices
     SET last_dev_nonce = $1, used_dev_nonces = $2::INTEGER[], last_join_nonce = $3, last_rj_count1 = $4,
         last_rj_count0 = $9, rejoin_window_start = $10, rejoin_window_count = $11,
         last_join_at = $5, last_join_peer = $6, version = version + 1,
         activated_at = COALESCE(activated_at, $5), activated_tenant = COALESCE(activated_tenant, owner_tenant)
   WHERE dev_eui = $7 AND version = $8`;

/**
 * The join's read and write on PostgreSQL, by hand (a later change tunes their round trips).
 *
 * - The nonce check-and-update is one conditional UPDATE (`... WHERE dev_eui = $7 AND version
 *   = $8`): under PostgreSQL's READ COMMITTED a racing UPDATE waits for the row lock, then
 *   re-checks the version against the committed row, so of any number of instances committing
 *   with the same expected version exactly one succeeds. There is no read-then-write window.
 * - Group commit: concurrent `commitJoin` calls of this process are batched (see
 *   GroupCommitter) into one transaction: the rows are locked in DevEUI order (so two
 *   instances' batches never deadlock), then one conditional `UPDATE ... FROM (VALUES ...)
 *   RETURNING dev_eui` per round, where a round holds at most one commit per device, in
 *   arrival order: two commits of one device in one batch behave as if run one after the
 *   other (the second sees the first's version). One COMMIT, one WAL flush, for the batch.
 */
export class PostgresJoinState implements JoinState {
  readonly #sql: PostgresRunner;
  readonly #committer: GroupCommitter<JoinCommit, boolean> | null;

  constructor(sql: PostgresRunner, groupCommit: GroupCommitOptions | false) {
    this.#sql = sql;
    this.#committer = groupCommit === false ? null : new GroupCommitter((commits) => this.#commitGroup(commits), groupCommit);
  }

  async getDevice(devEUI: EUI64): Promise<Device | null> {
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
    const n = commit.nonces;
    const values = [n.lastDevNonce, n.usedDevNonces, n.lastJoinNonce, n.lastRJCount1, commit.joinedAt, commit.peer, commit.devEUI, commit.expectedVersion, n.lastRJCount0, n.rejoinWindow?.start ?? null, n.rejoinWindow?.count ?? 0];
    return (await this.#sql.changes('committing a join', COMMIT_JOIN, values)) === 1;
  }

  /**
   * A group of concurrent commits in one transaction. Falls back to committing them one by one
   * (in arrival order) when the group fails on bad data (SQLSTATE class 22 or 23), so one bad
   * commit does not fail the others; any other failure (the server gone) fails the whole group.
   * Running a commit again after an ambiguous failure is safe: it is conditional on its
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
    try {
      return await this.#sql.transactionWith('committing joins', (client) => commitRounds(client, commits));
    } catch (err) {
      const code = sqlState(err) ?? (err as { code?: string }).code;
      if (code === undefined || !(code.startsWith('22') || code.startsWith('23'))) throw err;
      const results: Array<boolean | ItemFailure> = [];
      for (const c of commits) {
        try {
          results.push(await this.#commitOne(c));
        } catch (e) {
          results.push(new ItemFailure(e));
        }
      }
      return results;
    }
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
 * The commits of a group, on one connection inside a transaction: lock the rows in DevEUI
 * order, then one conditional UPDATE per round. A round holds at most one commit per device;
 * the second commit of a device goes to the next round and sees the first's version bump.
 */
async function commitRounds(client: PoolClient, commits: readonly JoinCommit[]): Promise<boolean[]> {
  const results = commits.map(() => false);
  const rounds: Array<Array<{ index: number; commit: JoinCommit }>> = [];
  const perDevice = new Map<string, number>();
  commits.forEach((commit, index) => {
    const round = perDevice.get(commit.devEUI) ?? 0;
    perDevice.set(commit.devEUI, round + 1);
    (rounds[round] ??= []).push({ index, commit });
  });
  const devEUIs = [...perDevice.keys()].sort();
  await client.query('SELECT dev_eui FROM devices WHERE dev_eui = ANY($1::TEXT[]) ORDER BY dev_eui FOR UPDATE', [devEUIs]);
  for (const round of rounds) {
    const values: unknown[] = [];
    const rows = round.map(({ commit }) => {
      const n = commit.nonces;
      const b = values.length;
      values.push(commit.devEUI, commit.expectedVersion, n.lastDevNonce, n.usedDevNonces, n.lastJoinNonce, n.lastRJCount1, commit.joinedAt, commit.peer,
        n.lastRJCount0, n.rejoinWindow?.start ?? null, n.rejoinWindow?.count ?? 0);
      return `($${b + 1}::TEXT, $${b + 2}::BIGINT, $${b + 3}::INTEGER, $${b + 4}::INTEGER[], $${b + 5}::INTEGER, $${b + 6}::INTEGER, $${b + 7}::TIMESTAMPTZ, $${b + 8}::TEXT, $${b + 9}::INTEGER, $${b + 10}::TIMESTAMPTZ, $${b + 11}::INTEGER)`;
    });
    const updated = await client.query<{ dev_eui: string }>(
      `UPDATE devices AS d
          SET last_dev_nonce = v.last_dev_nonce, used_dev_nonces = v.used_dev_nonces, last_join_nonce = v.last_join_nonce,
              last_rj_count1 = v.last_rj_count1, last_rj_count0 = v.last_rj_count0, rejoin_window_start = v.rejoin_window_start,
              rejoin_window_count = v.rejoin_window_count, last_join_at = v.joined_at, last_join_peer = v.peer, version = d.version + 1,
              activated_at = COALESCE(d.activated_at, v.joined_at), activated_tenant = COALESCE(d.activated_tenant, d.owner_tenant)
         FROM (VALUES ${rows.join(', ')})
           AS v (dev_eui, expected_version, last_dev_nonce, used_dev_nonces, last_join_nonce, last_rj_count1, joined_at, peer,
                 last_rj_count0, rejoin_window_start, rejoin_window_count)
        WHERE d.dev_eui = v.dev_eui AND d.version = v.expected_version
        RETURNING d.dev_eui`,
      values,
    );
    const ok = new Set(updated.rows.map((r) => r.dev_eui));
    for (const { index, commit } of round) results[index] = ok.has(commit.devEUI);
  }
  return results;
}
