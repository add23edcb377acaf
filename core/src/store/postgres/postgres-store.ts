import { Pool, type PoolClient, type QueryResultRow } from 'pg';
import { parseEUI64, type EUI64 } from '../../lorawan/identifiers';
import type { Peer } from '../../peers/peer';
import { serializePeerSettings, type PeerSettings } from '../../peers/peer-settings';
import { createHash } from 'node:crypto';
import type { ApiKeyRecord } from '../../tenants/api-key';
import { TenantExistsError, type Tenant, type TenantID } from '../../tenants/tenant';
import { AUDIT_GENESIS } from '../audit-chain';
import type { AuditEvent, AuditQuery, AuditRecord } from '../audit-event';
import {
  apiKeyFromRow,
  AUDIT_COLUMNS,
  auditEventFromRow,
  auditRecordFromRow,
  auditRowValues,
  DEVICE_COLUMNS,
  deviceFromRow,
  FLEET_MIGRATION_COLUMNS,
  fleetMigrationFromRow,
  fleetMigrationRowValues,
  MIGRATION_ENTRY_COLUMNS,
  migrationEntryFromRow,
  newDeviceOwnershipValues,
  PEER_COLUMNS,
  peerFromRow,
  peerRowValues,
  RELEASED_STATES_SQL,
  sessionFromRow,
  tenantFromRow,
  type ApiKeyRowValues,
  type AuditRowValues,
  type FleetMigrationRowValues,
  type MigrationEntryRowValues,
  type TenantRowValues,
  euiPrefix,
  JOIN_RECORD_COLUMNS,
  joinRecordFromRow,
  type JoinRecordRowValues,
  peerChangeColumns,
} from '../row-mapping';
import { BOUND_PER_PEER_SQL, LAST_JOIN_PER_PEER_SQL, PEER_JOIN_RESULTS_SQL, UNBIND_FROM_PEER_SQL, joinResultsFrom, peerUsageFrom } from '../peer-usage';
import { bucketKeys, settleBuckets, type BucketTake, type RateBucket } from '../rate-buckets';
import { NONCE_COLUMNS, RETAINED_COLUMNS, restoreNoncesSet, retainNoncesSQL } from '../retained-nonces';
import type { DeviceMigrationState } from '../../migration/device-migration-state';
import type { FleetMigration, MigrationStatus } from '../../migration/fleet-migration';
import type { MigrationArrival, MigrationEntry, MigrationEntryChange, RebindOutcome } from '../../migration/migration-entry';
import type { Activation, Device, DeviceChange, JoinCommit, NewDevice } from '../device';
import { ChangeWatch } from '../change-watch';
import { PeerCache } from '../peer-cache';
import { GroupCommitter, ItemFailure, type GroupCommitOptions } from '../group-commit';
import type { JoinRecord } from '../join-record';
import type { SealedCanary } from '../sealed-canary';
import type { SessionRecord } from '../session';
import type { StoreSettingName } from '../store-setting';
import { DeviceExistsError, MigrationConflictError, PeerExistsError, type ActivationQuery, type DeviceFilter, type DeviceListQuery, type MigrationEntryQuery, type PeerChange, type PeerDeletion, type PeerUsage, type Rebinding, type Resealer, type SealedBlobOwner, type Store } from '../store';
import { migratePostgres } from './migrations';
import { postgresJoinRate } from './join-rate';
import type { JoinRateBucket, JoinRateQuery } from '../join-rate';
import { parsePostgresLocation, type PostgresLocation, type PostgresLocationOptions } from './postgres-location';

/** Blobs read per page by resealAll. */
const RESEAL_BATCH = 500;

export interface PostgresStoreOptions extends PostgresLocationOptions {
  /**
   * Group commit of `commitJoin` (default on): concurrent nonce updates share one transaction.
   * `false` commits each on its own (one statement, one transaction), for comparison.
   */
  readonly groupCommit?: GroupCommitOptions | false;
  /** How long to wait for a connection (opening, or a busy pool). Default 10000 ms. */
  readonly connectTimeoutMs?: number;
}

/**
 * A PostgreSQL error turned into one Joinery can print: the operation, the server's message
 * and its SQLSTATE. The server's `detail` (which can quote a whole failing row) is left out,
 * so nothing stored, sealed or not, ever reaches a log through an error.
 */
/** Every write to peers bumps it, in the same transaction: what other instances' peer caches check. */
const BUMP_PEER_CHANGES_SQL = 'UPDATE change_counters SET peers = peers + 1 WHERE id = 1';

export class PostgresStoreError extends Error {
  override readonly name = 'PostgresStoreError';
  constructor(
    readonly operation: string,
    readonly code: string | undefined,
    reason: string,
  ) {
    super(`PostgreSQL store: ${operation}: ${reason}${code && /^[0-9A-Z]{5}$/.test(code) ? ` (SQLSTATE ${code})` : ''}`);
  }
}

interface DeviceRow {
  dev_eui: string;
  join_eui: string;
  mac_version: string;
  sealed_root_keys: Buffer;
  vault_kind: string;
  ns_peer: string | null;
  overlap_ns_peer: string | null;
  as_peer: string | null;
  last_dev_nonce: number | string | null;
  used_dev_nonces: Array<number | string>;
  last_join_nonce: number | string | null;
  last_rj_count1: number | string | null;
  last_rj_count0: number | string | null;
  rejoin_window_start: Date | null;
  rejoin_window_count: number | string;
  version: number | string;
  last_join_at: Date | null;
  last_join_peer: string | null;
  created_at: Date;
  manufacturer_tenant: string;
  owner_tenant: string | null;
  owner_token_hash: string | null;
  profile_id: string;
  locked: boolean;
  claimed_at: Date | null;
  activated_at: Date | null;
  activated_tenant: string | null;
}

interface SessionRow {
  dev_eui: string;
  session_key_id: string;
  join_nonce: number | string;
  ns_peer: string;
  as_peer: string | null;
  sealed_app_s_key: Buffer;
  created_at: Date;
}

interface PeerRow {
  name: string;
  kind: string;
  cert_fingerprint: string;
  kek_label: string;
  sealed_kek: Buffer;
  net_id: string | null;
  ns_id: string | null;
  vendor: string | null;
  as_id: string | null;
  created_at: Date;
  settings: string;
  tenant_id: string;
  state: string;
  certificates: string;
}

type AuditRow = Omit<AuditRowValues, 'id'> & { id: string | number };
const SESSION_COLUMNS = 'dev_eui, session_key_id, join_nonce, ns_peer, as_peer, sealed_app_s_key, created_at';
const PEER_COLUMN_LIST = PEER_COLUMNS.join(', ');

/** The conditional nonce write of one join: the statement the whole design rests on. */
const COMMIT_JOIN = `
  UPDATE devices
     SET last_dev_nonce = $1, used_dev_nonces = $2::INTEGER[], last_join_nonce = $3, last_rj_count1 = $4,
         last_rj_count0 = $9, rejoin_window_start = $10, rejoin_window_count = $11,
         last_join_at = $5, last_join_peer = $6, version = version + 1,
         activated_at = COALESCE(activated_at, $5), activated_tenant = COALESCE(activated_tenant, owner_tenant)
   WHERE dev_eui = $7 AND version = $8`;

/** Rows of a multi-row INSERT of devices (13 parameters each; PostgreSQL allows 65535 per statement). */
const INSERT_CHUNK = 500;
/** Serialization failure, deadlock: the transaction did nothing and may simply be run again. */
const RETRYABLE = new Set(['40001', '40P01']);
const MAX_ATTEMPTS = 5;

/**
 * The scale-out store: one PostgreSQL database shared by any number of Joinery instances (and
 * the CLI). Every write is a committed transaction when its promise resolves; nothing that
 * matters lives in the process.
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
 * - Migrations run under a transaction-level advisory lock (see migratePostgres).
 * - Tables live in the schema named by `?schema=` (or the option), else in the default one.
 *
 * CockroachDB and other PostgreSQL-compatible databases: the SQL is kept to what CockroachDB
 * accepts. What differs there: it runs SERIALIZABLE, so a transaction can fail with SQLSTATE
 * 40001 and must be retried (every transaction here is retried on 40001 and 40P01, up to 5
 * times; the conditional UPDATE makes a retry safe); `pg_advisory_xact_lock` is enforced only
 * by recent CockroachDB releases (it was a no-op before 2026: a racing migrator then fails on
 * the `schema_migrations` key and retries); identity and SERIAL columns are unique but only
 * roughly ordered across nodes there, which only matters for two sessions of one device created
 * in the same millisecond.
 */
export class PostgresStore implements Store {
  readonly #pool: Pool;
  /** The change counters, read once per turn of the event loop (one query serves every request of the turn). */
  readonly #changes = new ChangeWatch(async () => {
    const rows = await this.#query<{ peers: string }>('reading the change counters', 'SELECT peers FROM change_counters WHERE id = 1', []);
    return rows[0] ? Number(rows[0].peers) : 0;
  });
  /** Peers as last read (the BI listener looks one up per request), checked against the change counter every peer write bumps. */
  readonly #peers = new PeerCache(() => this.#changes.current());
  readonly #location: PostgresLocation;
  readonly #committer: GroupCommitter<JoinCommit, boolean> | null;
  #closing: Promise<void> | undefined;
  /** Rate-bucket takes and refunds so far (full rows are pruned every 64th). */
  #bucketSettles = 0;

  /**
   * Connects, creates the schema if missing and migrates it. Throws a clear error when the
   * server cannot be reached (never quoting the password), and SchemaTooNewError for a
   * database written by a newer release.
   */
  static async open(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const location = parsePostgresLocation(url, options);
    const pool = new Pool({
      connectionString: location.connectionString,
      max: location.poolSize,
      connectionTimeoutMillis: Math.max(1, Math.floor(options.connectTimeoutMs ?? 10_000)),
      idleTimeoutMillis: 30_000,
      keepAlive: true,
    });
    // A connection the server drops or resets (restart, failover, a terminated backend) emits
    // 'error': on the pool while idle (the pool discards it), on the client itself while checked
    // out, between two queries of a transaction too. Unhandled, either would end the process.
    // The query or transaction in flight fails on its own (and answers as a store error); the
    // broken client is released as broken and the pool opens a new one when needed.
    pool.on('error', () => {});
    pool.on('connect', (client) => client.on('error', () => {}));
    try {
      await migratePostgres(pool, location.schema);
    } catch (err) {
      await pool.end().catch(() => {});
      if (err instanceof Error && err.name === 'SchemaTooNewError') throw err;
      throw wrap(`opening ${location.display}${location.schema ? ` (schema ${location.schema})` : ''}`, err);
    }
    const store = new PostgresStore(pool, location, options.groupCommit ?? {});
    try {
      await store.chainUnhashedAuditRows();
    } catch (err) {
      await pool.end().catch(() => {});
      throw err;
    }
    return store;
  }

  private constructor(pool: Pool, location: PostgresLocation, groupCommit: GroupCommitOptions | false) {
    this.#pool = pool;
    this.#location = location;
    this.#committer = groupCommit === false ? null : new GroupCommitter((commits) => this.#commitGroup(commits), groupCommit);
  }

  /** The schema the tables live in (null: the server's default). */
  get schema(): string | null {
    return this.#location.schema;
  }

  /** Group-commit batches and commits so far; null when group commit is off. */
  get groupCommitStats(): { readonly batches: number; readonly items: number } | null {
    return this.#committer?.stats ?? null;
  }

  async insertDevices(devices: readonly NewDevice[], audit?: AuditEvent): Promise<void> {
    const seen = new Set<string>();
    for (const d of devices) {
      if (seen.has(d.devEUI)) throw new DeviceExistsError(d.devEUI);
      seen.add(d.devEUI);
    }
    if (devices.length === 0) return;
    const now = new Date();
    await this.#transaction('inserting devices', async (client) => {
      await insertDeviceRows(client, devices, now);
      if (audit) await this.#appendAudit(client, audit);
    });
  }

  async insertDeviceChunks(chunks: AsyncIterable<readonly NewDevice[]>, audit?: (inserted: number) => AuditEvent): Promise<number> {
    const source = chunks[Symbol.asyncIterator]();
    let read = false;
    let sourceFailed: { readonly error: unknown } | undefined;
    try {
      return await this.#transaction('inserting devices', async (client) => {
        // A retry (serialization failure, deadlock) cannot read the chunks again.
        if (read) throw new PostgresStoreError('inserting devices', undefined, 'the transaction failed after the devices were read; nothing was written, import again');
        read = true;
        const now = new Date();
        let inserted = 0;
        for (;;) {
          let next: IteratorResult<readonly NewDevice[]>;
          try {
            next = await source.next();
          } catch (error) {
            sourceFailed = { error };
            throw error;
          }
          if (next.done) break;
          await insertDeviceRows(client, next.value, now);
          inserted += next.value.length;
        }
        if (audit && inserted > 0) await this.#appendAudit(client, audit(inserted));
        return inserted;
      });
    } catch (err) {
      throw sourceFailed ? sourceFailed.error : err;
    }
  }

  /** Inside a transaction: the next entry, chained to the last one (one writer at a time). */
  async #appendAudit(client: PoolClient, event: AuditEvent): Promise<void> {
    await client.query('SELECT pg_advisory_xact_lock($1::BIGINT)', [auditLockKey(this.#location.schema)]);
    const last = (await client.query<{ id: string | number; hash: string | null }>('SELECT id, hash FROM audit_events ORDER BY id DESC LIMIT 1')).rows[0];
    const values = auditRowValues((last ? toInt(last.id, 'audit_events.id') : 0) + 1, event, last?.hash ?? AUDIT_GENESIS);
    await client.query(`INSERT INTO audit_events (${AUDIT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, values);
  }

  /** Runs `write` and appends `audit` in one transaction; `write` false = nothing written. */
  async #audited(operation: string, write: (client: PoolClient) => Promise<boolean>, audit: AuditEvent | undefined): Promise<boolean> {
    return this.#transaction(operation, async (client) => {
      if (!(await write(client))) return false;
      if (audit) await this.#appendAudit(client, audit);
      return true;
    });
  }

  /**
   * Entries written before the chain existed (schema 3) get their hashes, in order: once, when
   * a store is opened after the upgrade (under the audit lock, so instances do not race).
   */
  async chainUnhashedAuditRows(): Promise<void> {
    await this.#transaction('chaining the audit trail', async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1::BIGINT)', [auditLockKey(this.#location.schema)]);
      const rows = (await client.query<AuditRow>(`SELECT ${AUDIT_COLUMNS} FROM audit_events WHERE hash IS NULL ORDER BY id`)).rows;
      for (const r of rows) {
        const id = toInt(r.id, 'audit_events.id');
        const before = (await client.query<{ hash: string | null }>('SELECT hash FROM audit_events WHERE id < $1 ORDER BY id DESC LIMIT 1', [id])).rows[0];
        const values = auditRowValues(id, auditEventFromRow({ ...r, id }), before?.hash ?? AUDIT_GENESIS);
        await client.query('UPDATE audit_events SET prev_hash = $1, hash = $2 WHERE id = $3', [values[8], values[9], id]);
      }
    });
  }

  async changeDevice(c: DeviceChange, audit: AuditEvent): Promise<boolean> {
    return this.#audited(
      'changing a device',
      async (client) =>
        (
          await client.query(
            `UPDATE devices SET owner_tenant = $1, owner_token_hash = $2, ns_peer = $3, as_peer = $4, locked = $5, claimed_at = $6, version = version + 1
              WHERE dev_eui = $7 AND version = $8`,
            [c.owner, c.ownerTokenHash, c.nsPeer, c.asPeer, c.locked, c.claimedAt, c.devEUI, c.expectedVersion],
          )
        ).rowCount === 1,
      audit,
    );
  }

  async deleteDevice(devEUI: EUI64, audit: AuditEvent): Promise<boolean> {
    // The device's nonce state stays behind, by DevEUI and JoinEUI (see retained-nonces.ts).
    const sql = `WITH gone AS (DELETE FROM devices WHERE dev_eui = $1 RETURNING ${RETAINED_COLUMNS}) ${retainNoncesSQL(`SELECT ${RETAINED_COLUMNS} FROM gone`)}`;
    return this.#audited('deleting a device', async (client) => (await client.query(sql, [devEUI])).rowCount === 1, audit);
  }

  async listActivations(query: ActivationQuery): Promise<Activation[]> {
    const values: unknown[] = [query.since, query.until ?? new Date(8.64e15)];
    let sql = 'SELECT dev_eui, join_eui, activated_tenant, activated_at FROM devices WHERE activated_at >= $1 AND activated_at < $2';
    if (query.tenantID !== undefined) {
      values.push(query.tenantID);
      sql += ' AND activated_tenant = $3';
    }
    const rows = await this.#query<{ dev_eui: string; join_eui: string; activated_tenant: string; activated_at: Date }>('listing activations', `${sql} ORDER BY activated_at, dev_eui COLLATE "C"`, values);
    return rows.map((r) => ({ devEUI: parseEUI64(r.dev_eui), joinEUI: parseEUI64(r.join_eui), tenantID: r.activated_tenant as TenantID, activatedAt: r.activated_at }));
  }

  async appendAudit(event: AuditEvent): Promise<void> {
    await this.#audited('appending to the audit trail', async () => true, event);
  }

  async readAuditChain(afterID: number, limit: number): Promise<AuditRecord[]> {
    const rows = await this.#query<AuditRow>('reading the audit trail', `SELECT ${AUDIT_COLUMNS} FROM audit_events WHERE id > $1 ORDER BY id LIMIT $2`, [afterID, limit]);
    return rows.map((r) => auditRecordFromRow({ ...r, id: toInt(r.id, 'audit_events.id') }));
  }

  async insertTenant(tenant: Tenant, audit: AuditEvent): Promise<void> {
    try {
      await this.#audited(
        'adding a tenant',
        async (client) => (await client.query('INSERT INTO tenants (id, name, roles, created_at) VALUES ($1, $2, $3, $4)', [tenant.id, tenant.name, JSON.stringify(tenant.roles), tenant.createdAt])).rowCount === 1,
        audit,
      );
    } catch (err) {
      if (err instanceof PostgresStoreError && err.code === '23505') throw new TenantExistsError(tenant.id);
      throw err;
    }
  }

  async getTenant(id: TenantID): Promise<Tenant | null> {
    const rows = await this.#query<TenantRowValues>('reading a tenant', 'SELECT id, name, roles, created_at FROM tenants WHERE id = $1', [id]);
    return rows[0] ? tenantFromRow(rows[0]) : null;
  }

  async listTenants(): Promise<Tenant[]> {
    return (await this.#query<TenantRowValues>('listing tenants', 'SELECT id, name, roles, created_at FROM tenants ORDER BY id COLLATE "C"', [])).map(tenantFromRow);
  }

  async insertApiKey(k: ApiKeyRecord, audit: AuditEvent): Promise<void> {
    await this.#audited(
      'adding an API key',
      async (client) =>
        (
          await client.query('INSERT INTO api_keys (id, tenant_id, scopes, label, secret_hash, created_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
            k.id,
            k.tenantID,
            JSON.stringify(k.scopes),
            k.label,
            k.secretHash,
            k.createdAt,
            k.revokedAt,
          ])
        ).rowCount === 1,
      audit,
    );
  }

  async getApiKey(id: string): Promise<ApiKeyRecord | null> {
    const rows = await this.#query<ApiKeyRowValues>('reading an API key', 'SELECT * FROM api_keys WHERE id = $1', [id]);
    return rows[0] ? apiKeyFromRow(rows[0]) : null;
  }

  async listApiKeys(tenantID: TenantID): Promise<ApiKeyRecord[]> {
    return (await this.#query<ApiKeyRowValues>('listing API keys', 'SELECT * FROM api_keys WHERE tenant_id = $1 ORDER BY created_at, id COLLATE "C"', [tenantID])).map(apiKeyFromRow);
  }

  async revokeApiKey(id: string, at: Date, audit: AuditEvent): Promise<boolean> {
    return this.#audited('revoking an API key', async (client) => (await client.query('UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL', [at, id])).rowCount === 1, audit);
  }

  async getDevice(devEUI: EUI64): Promise<Device | null> {
    const rows = await this.#query<DeviceRow>('reading a device', `SELECT ${DEVICE_COLUMNS} FROM devices WHERE dev_eui = $1`, [devEUI]);
    return rows[0] ? toDevice(rows[0]) : null;
  }

  async existingDevEUIs(devEUIs: readonly EUI64[]): Promise<Set<EUI64>> {
    if (devEUIs.length === 0) return new Set();
    const rows = await this.#query<{ dev_eui: string }>('finding existing devices', 'SELECT dev_eui FROM devices WHERE dev_eui = ANY($1::text[])', [devEUIs]);
    return new Set(rows.map((r) => r.dev_eui as EUI64));
  }

  async listDevices(query: DeviceListQuery): Promise<Device[]> {
    const where = deviceWhere(query);
    const n = where.values.length;
    const rows = await this.#query<DeviceRow>('listing devices', `SELECT ${DEVICE_COLUMNS} FROM devices ${where.sql} ORDER BY dev_eui COLLATE "C" LIMIT $${n + 1} OFFSET $${n + 2}`, [
      ...where.values,
      query.limit,
      query.offset,
    ]);
    return rows.map(toDevice);
  }

  async countDevices(filter: DeviceFilter = {}): Promise<number> {
    const where = deviceWhere(filter);
    const rows = await this.#query<{ n: string | number }>('counting devices', `SELECT COUNT(*) AS n FROM devices ${where.sql}`, where.values);
    return toInt(rows[0]?.n ?? 0, 'COUNT(*)');
  }

  async commitJoin(commit: JoinCommit): Promise<boolean> {
    if (this.#committer === null) return this.#commitOne(commit);
    return this.#committer.submit(commit);
  }

  /** One commit, one statement, its own (implicit) transaction. */
  async #commitOne(commit: JoinCommit): Promise<boolean> {
    const n = commit.nonces;
    return this.#withRetry('committing a join', async () => {
      const result = await this.#pool.query(COMMIT_JOIN, [
        n.lastDevNonce,
        n.usedDevNonces,
        n.lastJoinNonce,
        n.lastRJCount1,
        commit.joinedAt,
        commit.peer,
        commit.devEUI,
        commit.expectedVersion,
        n.lastRJCount0,
        n.rejoinWindow?.start ?? null,
        n.rejoinWindow?.count ?? 0,
      ]);
      return result.rowCount === 1;
    });
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
      return await this.#transaction('committing joins', (client) => commitRounds(client, commits));
    } catch (err) {
      const code = sqlState(err);
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
    if (!Number.isInteger(keep) || keep < 1) throw new RangeError(`addSession: keep must be a positive integer, got ${keep}`);
    const s = session;
    await this.#transaction('adding a session', async (client) => {
      await client.query('SELECT dev_eui FROM devices WHERE dev_eui = $1 FOR UPDATE', [s.devEUI]);
      await client.query(`INSERT INTO sessions (${SESSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)`, [
        s.devEUI,
        s.sessionKeyID,
        s.joinNonce,
        s.nsPeer,
        s.asPeer,
        s.sealedAppSKey,
        s.createdAt,
      ]);
      await client.query(
        `DELETE FROM sessions
          WHERE dev_eui = $1
            AND seq NOT IN (SELECT seq FROM sessions WHERE dev_eui = $1 ORDER BY created_at DESC, seq DESC LIMIT $2)`,
        [s.devEUI, keep],
      );
    });
  }

  /**
   * Inserts the records of devices that exist and prunes each device to its newest `keep`, in
   * one transaction that holds the devices' row locks (in DevEUI order), so two batches of one
   * device at once still leave exactly `keep`.
   */
  async appendJoinRecords(records: readonly JoinRecord[], keep: number): Promise<number> {
    if (!Number.isInteger(keep) || keep < 1) throw new RangeError(`appendJoinRecords: keep must be a positive integer, got ${keep}`);
    if (records.length === 0) return 0;
    const devEUIs = [...new Set(records.map((r) => r.devEUI))].sort();
    return this.#transaction('appending join records', async (client) => {
      // KEY SHARE (what a foreign key takes): a device cannot be deleted meanwhile, and join
      // commits (which update no key column) are never made to wait.
      const locked = await client.query<{ dev_eui: string }>('SELECT dev_eui FROM devices WHERE dev_eui = ANY($1::TEXT[]) ORDER BY dev_eui FOR KEY SHARE', [devEUIs]);
      const known = new Set(locked.rows.map((r) => r.dev_eui));
      const rows = records.filter((r) => known.has(r.devEUI));
      if (rows.length === 0) return 0;
      const columns = JOIN_RECORD_COLUMNS.split(', ');
      const values: unknown[] = [];
      const tuples = rows.map((r) => {
        const b = values.length;
        values.push(r.devEUI, r.joinEUI, r.at, r.peer, r.joinType, r.macVersion, r.result, r.description, r.devNonce, r.joinNonce);
        return `(${columns.map((_, i) => `$${b + i + 1}`).join(', ')})`;
      });
      await client.query(`INSERT INTO device_joins (${JOIN_RECORD_COLUMNS}) VALUES ${tuples.join(', ')}`, values);
      await client.query(
        `DELETE FROM device_joins j
          USING (SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY dev_eui ORDER BY id DESC) AS n
                                   FROM device_joins WHERE dev_eui = ANY($1::TEXT[])) ranked WHERE n > $2) old
          WHERE j.id = old.id`,
        [[...known], keep],
      );
      return rows.length;
    });
  }

  async listJoinRecords(devEUI: EUI64, limit: number): Promise<JoinRecord[]> {
    const rows = await this.#query<JoinRecordRowValues>('reading join records', `SELECT ${JOIN_RECORD_COLUMNS} FROM device_joins WHERE dev_eui = $1 ORDER BY id DESC LIMIT $2`, [devEUI, limit]);
    return rows.map(joinRecordFromRow);
  }

  async getSession(devEUI: EUI64, sessionKeyID: string): Promise<SessionRecord | null> {
    const rows = await this.#query<SessionRow>('reading a session', `SELECT ${SESSION_COLUMNS} FROM sessions WHERE dev_eui = $1 AND session_key_id = $2`, [
      devEUI,
      sessionKeyID,
    ]);
    return rows[0] ? toSession(rows[0]) : null;
  }

  async insertPeer(peer: Peer, audit?: AuditEvent): Promise<void> {
    try {
      await this.#audited(
        'adding a peer',
        async (client) => {
          const inserted = (await client.query(`INSERT INTO peers (${PEER_COLUMN_LIST}) VALUES (${PEER_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})`, peerRowValues(peer))).rowCount === 1;
          if (inserted) {
            for (const c of peer.certificates) await client.query('INSERT INTO peer_fingerprints (fingerprint, peer_name) VALUES ($1, $2)', [c.fingerprint, peer.name]);
            await client.query(BUMP_PEER_CHANGES_SQL);
          }
          return inserted;
        },
        audit,
      );
    } catch (err) {
      if (sqlState(err) === '23505' || (err instanceof PostgresStoreError && err.code === '23505')) throw new PeerExistsError(peer.name);
      throw wrap('adding a peer', err);
    } finally {
      this.#peers.clear();
    }
  }

  getPeer(name: string): Promise<Peer | null> {
    return this.#peers.byName(name, async () => {
      const rows = await this.#query<PeerRow>('reading a peer', `SELECT ${PEER_COLUMN_LIST} FROM peers WHERE name = $1`, [name]);
      return rows[0] ? toPeer(rows[0]) : null;
    });
  }

  getPeerByFingerprint(certFingerprint: string): Promise<Peer | null> {
    return this.#peers.byFingerprint(certFingerprint, async () => {
      const rows = await this.#query<PeerRow>('reading a peer', `SELECT ${PEER_COLUMNS.map((c) => `p.${c}`).join(', ')} FROM peer_fingerprints f JOIN peers p ON p.name = f.peer_name WHERE f.fingerprint = $1`, [certFingerprint]);
      return rows[0] ? toPeer(rows[0]) : null;
    });
  }

  async updatePeer(name: string, change: PeerChange, audit: AuditEvent): Promise<boolean> {
    const columns = peerChangeColumns(change);
    try {
      return await this.#audited(
        'changing a peer',
        async (client) => {
          const sql = `UPDATE peers SET ${columns.map(([c], i) => `${c} = $${i + 1}`).join(', ')} WHERE name = $${columns.length + 1}`;
          if ((await client.query(sql, [...columns.map(([, v]) => v), name])).rowCount !== 1) return false;
          for (const c of change.certificates ?? []) {
            await client.query('INSERT INTO peer_fingerprints (fingerprint, peer_name) VALUES ($1, $2) ON CONFLICT (fingerprint) DO NOTHING', [c.fingerprint, name]);
          }
          await client.query(BUMP_PEER_CHANGES_SQL);
          return true;
        },
        audit,
      );
    } finally {
      this.#peers.clear();
    }
  }

  async deletePeer(name: string, unbindDevices: boolean, audit: AuditEvent): Promise<PeerDeletion> {
    let outcome: PeerDeletion = { kind: 'not-found' };
    try {
      await this.#audited(
        'deleting a peer',
        async (client) => {
          // The peer's row locked first: a concurrent binding to it waits, or is seen by the count.
          if ((await client.query('SELECT name FROM peers WHERE name = $1 FOR UPDATE', [name])).rowCount !== 1) return false;
          const bound = Number((await client.query<{ n: string }>('SELECT COUNT(*) AS n FROM devices WHERE ns_peer = $1 OR overlap_ns_peer = $1 OR as_peer = $1', [name])).rows[0]?.n ?? 0);
          if (bound > 0 && !unbindDevices) {
            outcome = { kind: 'bound', devices: bound };
            return false;
          }
          for (const sql of UNBIND_FROM_PEER_SQL) await client.query(sql, [name]);
          await client.query('DELETE FROM peer_fingerprints WHERE peer_name = $1', [name]);
          await client.query('DELETE FROM peers WHERE name = $1', [name]);
          await client.query(BUMP_PEER_CHANGES_SQL);
          outcome = { kind: 'deleted', unbound: bound };
          return true;
        },
        audit,
      );
      return outcome;
    } finally {
      this.#peers.clear();
    }
  }

  async peerJoinResults(name: string, since: Date): Promise<Record<string, number>> {
    return joinResultsFrom(await this.#query<{ result: string; n: string }>("reading a peer's join results", PEER_JOIN_RESULTS_SQL, [name, since]));
  }

  async joinRate(query: JoinRateQuery): Promise<JoinRateBucket[]> {
    return postgresJoinRate((text, values) => this.#query('reading the join rate', text, values), query);
  }

  async peerUsage(): Promise<Map<string, PeerUsage>> {
    const bound = await this.#query<{ peer: string; n: string }>('counting devices per peer', BOUND_PER_PEER_SQL, []);
    const lastJoins = await this.#query<{ peer: string; at: Date }>('reading last joins per peer', LAST_JOIN_PER_PEER_SQL, []);
    return peerUsageFrom(bound, lastJoins);
  }

  async updatePeerSettings(name: string, settings: PeerSettings): Promise<boolean> {
    try {
      return await this.#transaction('updating peer settings', async (client) => {
        const updated = ((await client.query('UPDATE peers SET settings = $1 WHERE name = $2', [serializePeerSettings(settings), name])).rowCount ?? 0) > 0;
        if (updated) await client.query(BUMP_PEER_CHANGES_SQL);
        return updated;
      });
    } finally {
      this.#peers.clear();
    }
  }

  async takeRateBuckets(buckets: readonly RateBucket[], nowMs: number): Promise<BucketTake> {
    return this.#settleRateBuckets('take', buckets, nowMs);
  }

  async refundRateBuckets(buckets: readonly RateBucket[], nowMs: number): Promise<void> {
    await this.#settleRateBuckets('refund', buckets, nowMs);
  }

  /**
   * In one transaction: the buckets' rows, inserted full when missing and locked (in key order,
   * so two takers never deadlock) by one upsert that returns them as they are; then what the
   * take or refund makes of them. A concurrent taker of any instance waits for the lock and
   * reads what this one wrote. Full rows are pruned now and then, skipping locked ones.
   */
  async #settleRateBuckets(op: 'take' | 'refund', buckets: readonly RateBucket[], nowMs: number): Promise<BucketTake> {
    const keys = bucketKeys(buckets);
    const result = await this.#transaction('taking from rate buckets', async (client) => {
      const held = await client.query<{ key: string; tokens: number; at_ms: string }>(
        `INSERT INTO rate_buckets (key, tokens, at_ms, full_at_ms)
           SELECT k, b, $3::BIGINT, $3::BIGINT FROM UNNEST($1::TEXT[], $2::DOUBLE PRECISION[]) AS v (k, b) ORDER BY k
         ON CONFLICT (key) DO UPDATE SET tokens = rate_buckets.tokens
         RETURNING key, tokens, at_ms`,
        [keys, keys.map((k) => buckets.find((b) => b.key === k)!.burst), nowMs],
      );
      const stored = new Map(held.rows.map((r) => [r.key, { tokens: Number(r.tokens), atMs: toInt(r.at_ms, 'rate_buckets.at_ms') }]));
      const { write, result } = settleBuckets(op, buckets, stored, nowMs);
      if (write.length > 0) {
        await client.query(
          `UPDATE rate_buckets AS r SET tokens = v.tokens, at_ms = v.at_ms, full_at_ms = v.full_at_ms
             FROM UNNEST($1::TEXT[], $2::DOUBLE PRECISION[], $3::BIGINT[], $4::BIGINT[]) AS v (key, tokens, at_ms, full_at_ms)
            WHERE r.key = v.key`,
          [write.map((r) => r.key), write.map((r) => r.tokens), write.map((r) => r.atMs), write.map((r) => r.fullAtMs)],
        );
      }
      return result;
    });
    if (++this.#bucketSettles % 64 === 0) {
      await this.#query('pruning rate buckets', 'DELETE FROM rate_buckets WHERE key IN (SELECT key FROM rate_buckets WHERE full_at_ms <= $1 LIMIT 1000 FOR UPDATE SKIP LOCKED)', [nowMs]);
    }
    return result;
  }

  async resetDevNonces(devEUI: EUI64, audit: AuditEvent): Promise<Device | null> {
    const reset = await this.#transaction('resetting DevNonces', async (client) => {
      const r = await client.query(`UPDATE devices SET last_dev_nonce = NULL, used_dev_nonces = '{}', version = version + 1 WHERE dev_eui = $1`, [devEUI]);
      if ((r.rowCount ?? 0) === 0) return false;
      await this.#appendAudit(client, audit);
      return true;
    });
    return reset ? this.getDevice(devEUI) : null;
  }

  async listAuditEvents(query: AuditQuery): Promise<AuditEvent[]> {
    const conditions: string[] = [];
    const values: unknown[] = [];
    if (query.devEUI !== undefined) {
      values.push(query.devEUI);
      conditions.push(`dev_eui = $${values.length}`);
    }
    if (query.tenantID !== undefined) {
      values.push(query.tenantID);
      conditions.push(`tenant_id = $${values.length}`);
    }
    values.push(query.limit);
    const where = conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
    const rows = await this.#query<AuditRow>('listing audit events', `SELECT ${AUDIT_COLUMNS} FROM audit_events ${where} ORDER BY id DESC LIMIT $${values.length}`, values);
    return rows.map((row) => auditEventFromRow({ ...row, id: toInt(row.id, 'audit_events.id') }));
  }

  async listPeers(tenantID?: TenantID): Promise<Peer[]> {
    const rows =
      tenantID === undefined
        ? await this.#query<PeerRow>('listing peers', `SELECT ${PEER_COLUMN_LIST} FROM peers ORDER BY name COLLATE "C"`, [])
        : await this.#query<PeerRow>('listing peers', `SELECT ${PEER_COLUMN_LIST} FROM peers WHERE tenant_id = $1 ORDER BY name COLLATE "C"`, [tenantID]);
    return rows.map(toPeer);
  }

  async resealAll(reseal: Resealer): Promise<number> {
    try {
      return await this.#resealAll(reseal);
    } finally {
      this.#peers.clear();
    }
  }

  async #resealAll(reseal: Resealer): Promise<number> {
    let replaced = 0;
    const pass = async <R extends QueryResultRow>(what: string, page: string, update: string, first: unknown[], key: (r: R) => unknown[], blob: (r: R) => Buffer, owner: (r: R) => SealedBlobOwner): Promise<void> => {
      let after = first;
      for (;;) {
        const rows = await this.#query<R>(`resealing ${what}`, page, [...after, RESEAL_BATCH]);
        if (rows.length === 0) return;
        for (const r of rows) {
          const next = await reseal(blob(r), owner(r));
          if (!next) continue;
          const values = [next, ...key(r), blob(r)];
          const result = await this.#pool.query(update, values).catch((err: unknown) => {
            throw wrap(`resealing ${what}`, err);
          });
          if (result.rowCount === 1) replaced++;
        }
        after = key(rows[rows.length - 1]!);
      }
    };
    await pass<{ dev_eui: string; sealed_root_keys: Buffer }>(
      'devices',
      'SELECT dev_eui, sealed_root_keys FROM devices WHERE dev_eui COLLATE "C" > $1 ORDER BY dev_eui COLLATE "C" LIMIT $2',
      'UPDATE devices SET sealed_root_keys = $1 WHERE dev_eui = $2 AND sealed_root_keys = $3',
      [''],
      (r) => [r.dev_eui],
      (r) => r.sealed_root_keys,
      (r) => ({ kind: 'device', devEUI: parseEUI64(r.dev_eui) }),
    );
    await pass<{ name: string; sealed_kek: Buffer }>(
      'peers',
      'SELECT name, sealed_kek FROM peers WHERE name COLLATE "C" > $1 ORDER BY name COLLATE "C" LIMIT $2',
      'UPDATE peers SET sealed_kek = $1 WHERE name = $2 AND sealed_kek = $3',
      [''],
      (r) => [r.name],
      (r) => r.sealed_kek,
      (r) => ({ kind: 'peer', name: r.name }),
    );
    // Other instances' peer caches read the new KEK blobs from their next turn on.
    await this.#pool.query(BUMP_PEER_CHANGES_SQL).catch((err: unknown) => {
      throw wrap('resealing peers', err);
    });
    await pass<{ dev_eui: string; session_key_id: string; sealed_app_s_key: Buffer }>(
      'sessions',
      'SELECT dev_eui, session_key_id, sealed_app_s_key FROM sessions WHERE (dev_eui COLLATE "C", session_key_id COLLATE "C") > ($1, $2) ORDER BY dev_eui COLLATE "C", session_key_id COLLATE "C" LIMIT $3',
      'UPDATE sessions SET sealed_app_s_key = $1 WHERE dev_eui = $2 AND session_key_id = $3 AND sealed_app_s_key = $4',
      ['', ''],
      (r) => [r.dev_eui, r.session_key_id],
      (r) => r.sealed_app_s_key,
      (r) => ({ kind: 'session', devEUI: parseEUI64(r.dev_eui), sessionKeyID: r.session_key_id }),
    );
    return replaced;
  }

  async insertFleetMigration(migration: FleetMigration, devEUIs: readonly EUI64[], audit: AuditEvent): Promise<void> {
    const list = [...new Set(devEUIs)];
    await this.#transaction('creating a migration', async (client) => {
      const busy = await client.query<{ dev_eui: string; migration_id: string }>(
        `SELECT dev_eui, migration_id FROM fleet_migration_devices
          WHERE dev_eui = ANY($1::TEXT[]) AND migration_id <> $2 AND state NOT IN ${RELEASED_STATES_SQL} LIMIT 1`,
        [list, migration.id],
      );
      const b = busy.rows[0];
      if (b) throw new MigrationConflictError(parseEUI64(b.dev_eui), b.migration_id);
      await client.query(
        `INSERT INTO fleet_migrations (${FLEET_MIGRATION_COLUMNS.join(', ')}) VALUES (${FLEET_MIGRATION_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})`,
        fleetMigrationRowValues(migration),
      );
      for (let start = 0; start < list.length; start += 5000) {
        await client.query(
          `INSERT INTO fleet_migration_devices (migration_id, dev_eui, state, attempts, updated_at)
           SELECT $1, e, 'planned', 0, now() FROM unnest($2::TEXT[]) AS e`,
          [migration.id, list.slice(start, start + 5000)],
        );
      }
      await this.#appendAudit(client, audit);
    });
  }

  async getFleetMigration(id: string): Promise<FleetMigration | null> {
    const rows = await this.#query<FleetMigrationRowValues>('reading a migration', `SELECT ${FLEET_MIGRATION_COLUMNS.join(', ')} FROM fleet_migrations WHERE id = $1`, [id]);
    return rows[0] ? fleetMigrationFromRow(rows[0]) : null;
  }

  async listFleetMigrations(limit: number): Promise<FleetMigration[]> {
    const rows = await this.#query<FleetMigrationRowValues>(
      'listing migrations',
      `SELECT ${FLEET_MIGRATION_COLUMNS.join(', ')} FROM fleet_migrations ORDER BY created_at DESC, id DESC LIMIT $1`,
      [limit],
    );
    return rows.map(fleetMigrationFromRow);
  }

  async setFleetMigrationStatus(id: string, status: MigrationStatus, audit: AuditEvent): Promise<boolean> {
    return this.#transaction('setting a migration status', async (client) => {
      const finished = status === 'finished' || status === 'rolled-back' ? new Date() : null;
      const r = await client.query('UPDATE fleet_migrations SET status = $1, finished_at = $2 WHERE id = $3', [status, finished, id]);
      if ((r.rowCount ?? 0) === 0) return false;
      await this.#appendAudit(client, audit);
      return true;
    });
  }

  async listMigrationEntries(migrationID: string, query: MigrationEntryQuery): Promise<MigrationEntry[]> {
    const states = query.states ?? null;
    if (states !== null && states.length === 0) return [];
    const rows = await this.#query<MigrationEntryRowValues>(
      'listing migration entries',
      `SELECT ${MIGRATION_ENTRY_COLUMNS} FROM fleet_migration_devices
        WHERE migration_id = $1 AND dev_eui COLLATE "C" > $2 ${states ? 'AND state = ANY($4::TEXT[])' : 'AND $4::TEXT[] IS NULL'}
        ORDER BY dev_eui COLLATE "C" LIMIT $3`,
      [migrationID, query.afterDevEUI ?? '', query.limit, states],
    );
    return rows.map((r) => migrationEntryFromRow({ ...r, attempts: toInt(r.attempts, 'fleet_migration_devices.attempts') }));
  }

  async countMigrationEntries(migrationID: string): Promise<Partial<Record<DeviceMigrationState, number>>> {
    const rows = await this.#query<{ state: DeviceMigrationState; n: string | number }>(
      'counting migration entries',
      'SELECT state, COUNT(*) AS n FROM fleet_migration_devices WHERE migration_id = $1 GROUP BY state',
      [migrationID],
    );
    return Object.fromEntries(rows.map((r) => [r.state, toInt(r.n, 'COUNT(*)')]));
  }

  async advanceMigrationEntry(migrationID: string, devEUI: EUI64, from: DeviceMigrationState, change: MigrationEntryChange): Promise<boolean> {
    return this.#withRetry('advancing a migration entry', async () => advanceEntry(this.#pool, migrationID, devEUI, from, change));
  }

  async rebindMigratingDevice(r: Rebinding): Promise<RebindOutcome> {
    try {
      return await this.#transaction('rebinding a device', async (client) => {
        if (!(await advanceEntry(client, r.migrationID, r.devEUI, r.from, r.change))) return 'already';
        let moved = false;
        for (const b of r.bindingFrom) {
          const u = await client.query(
            `UPDATE devices SET ns_peer = $1, overlap_ns_peer = $2, version = version + 1
              WHERE dev_eui = $3 AND ns_peer = $4 AND overlap_ns_peer IS NOT DISTINCT FROM $5`,
            [r.bindingTo.nsPeer, r.bindingTo.overlapNsPeer, r.devEUI, b.nsPeer, b.overlapNsPeer],
          );
          if (u.rowCount === 1) {
            moved = true;
            break;
          }
        }
        if (!moved) throw new BindingChanged();
        await this.#appendAudit(client, r.audit);
        return 'rebound' as const;
      });
    } catch (err) {
      if (err instanceof BindingChanged) return 'binding-changed';
      throw err;
    }
  }

  async listMigrationArrivals(migrationID: string, targetPeer: string, limit: number): Promise<MigrationArrival[]> {
    const rows = await this.#query<{ dev_eui: string; last_join_at: Date }>(
      'listing migration arrivals',
      `SELECT e.dev_eui, d.last_join_at FROM fleet_migration_devices e JOIN devices d ON d.dev_eui = e.dev_eui
        WHERE e.migration_id = $1 AND e.state = 'rebound' AND d.last_join_peer = $2 AND d.last_join_at >= e.rebound_at
        ORDER BY e.dev_eui COLLATE "C" LIMIT $3`,
      [migrationID, targetPeer, limit],
    );
    return rows.map((r) => ({ devEUI: parseEUI64(r.dev_eui, 'devices.dev_eui'), joinedAt: r.last_join_at }));
  }

  async getSetting(name: StoreSettingName): Promise<string | null> {
    const rows = await this.#query<{ value: string }>(`reading the setting ${name}`, 'SELECT value FROM store_settings WHERE name = $1', [name]);
    return rows[0]?.value ?? null;
  }

  async putSetting(name: StoreSettingName, value: string): Promise<void> {
    await this.#query(`writing the setting ${name}`, 'INSERT INTO store_settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value', [name, value]);
  }

  async putSettingIfAbsent(name: StoreSettingName, value: string): Promise<string> {
    await this.#query(`writing the setting ${name}`, 'INSERT INTO store_settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [name, value]);
    const now = await this.getSetting(name);
    if (now === null) throw new PostgresStoreError(`writing the setting ${name}`, undefined, 'the setting vanished as it was written');
    return now;
  }

  async sealedCanary(vaultKind: string): Promise<SealedCanary | null> {
    const devices = await this.#query<{ dev_eui: string; sealed_root_keys: Buffer }>('reading a sealed canary', 'SELECT dev_eui, sealed_root_keys FROM devices WHERE vault_kind = $1 LIMIT 1', [vaultKind]);
    if (devices[0]) return { kind: 'device', devEUI: parseEUI64(devices[0].dev_eui, 'devices.dev_eui'), sealed: devices[0].sealed_root_keys };
    const peers = await this.#query<{ name: string; sealed_kek: Buffer }>('reading a sealed canary', 'SELECT name, sealed_kek FROM peers LIMIT 1', []);
    return peers[0] ? { kind: 'peer', name: peers[0].name, sealed: peers[0].sealed_kek } : null;
  }

  async ping(): Promise<void> {
    await this.#query('ping', 'SELECT 1 AS ok', []);
  }

  /** Lets queued commits finish, then closes every connection (idempotent). */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#committer?.drain();
      await this.#pool.end();
    })();
    return this.#closing;
  }

  async #query<R extends QueryResultRow>(operation: string, text: string, values: readonly unknown[]): Promise<R[]> {
    try {
      return (await this.#pool.query<R>(text, values as unknown[])).rows;
    } catch (err) {
      throw wrap(operation, err);
    }
  }

  /** Runs `fn` in a transaction on one connection: COMMIT on success, ROLLBACK on a throw. */
  async #transaction<T>(operation: string, fn: (client: PoolClient) => Promise<T>): Promise<T> {
    return this.#withRetry(operation, async () => {
      const client = await this.#pool.connect();
      // A connection whose state is unknown (BEGIN, COMMIT or ROLLBACK did not get an answer from
      // the server) is destroyed rather than given back to the pool.
      let broken = false;
      const control = async (sql: string): Promise<void> => {
        try {
          await client.query(sql);
        } catch (err) {
          if (sqlState(err) === undefined) broken = true;
          throw err;
        }
      };
      try {
        await control('BEGIN');
        let result: T;
        try {
          result = await fn(client);
        } catch (err) {
          await control('ROLLBACK').catch(() => {
            broken = true;
          });
          throw err;
        }
        await control('COMMIT');
        return result;
      } finally {
        client.release(broken);
      }
    });
  }

  /** Runs again after a serialization failure or a deadlock (nothing was written), then gives up. */
  async #withRetry<T>(operation: string, run: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await run();
      } catch (err) {
        if (err instanceof DeviceExistsError || err instanceof PeerExistsError || err instanceof TypeError || err instanceof MigrationConflictError || err instanceof BindingChanged) throw err;
        const code = sqlState(err);
        if (code !== undefined && RETRYABLE.has(code) && attempt < MAX_ATTEMPTS) {
          await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 5 * attempt)));
          continue;
        }
        throw wrap(operation, err);
      }
    }
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

/** The WHERE clause of a device filter, with its values ($1...). */
function deviceWhere(filter: DeviceFilter): { sql: string; values: unknown[] } {
  const conditions: string[] = [];
  const values: unknown[] = [];
  if (filter.nsPeer !== undefined) {
    values.push(filter.nsPeer);
    conditions.push(`ns_peer = $${values.length}`);
  }
  if (filter.holder !== undefined) {
    values.push(filter.holder);
    conditions.push(`(owner_tenant = $${values.length} OR (owner_tenant IS NULL AND manufacturer_tenant = $${values.length}))`);
  }
  if (filter.claimed !== undefined) conditions.push(filter.claimed ? 'owner_tenant IS NOT NULL' : 'owner_tenant IS NULL');
  if (filter.bound !== undefined) conditions.push(filter.bound ? 'ns_peer IS NOT NULL' : 'ns_peer IS NULL');
  if (filter.macVersion !== undefined) {
    values.push(filter.macVersion);
    conditions.push(`mac_version = $${values.length}`);
  }
  if (filter.owner !== undefined) {
    values.push(filter.owner);
    conditions.push(`owner_tenant = $${values.length}`);
  }
  if (filter.euiPrefix !== undefined) {
    // Hex digits only, so nothing to escape; indexed by devices_by_{dev,join}_eui_prefix.
    values.push(`${euiPrefix(filter.euiPrefix)}%`);
    conditions.push(`(dev_eui LIKE $${values.length} OR join_eui LIKE $${values.length})`);
  }
  if (filter.joinNonceAbove !== undefined) {
    values.push(filter.joinNonceAbove);
    conditions.push(`last_join_nonce > $${values.length}`);
  }
  return { sql: conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`, values };
}

/** The advisory-lock key that serializes appends to one schema's audit chain. */
function auditLockKey(schema: string | null): string {
  return createHash('sha256').update(`joinery:audit:${schema ?? ''}`).digest().readBigInt64BE(0).toString();
}

function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/**
 * The devices' INSERTs on the caller's transaction, INSERT_CHUNK rows a statement; a DevEUI
 * that exists (or comes twice) throws DeviceExistsError.
 */
async function insertDeviceRows(client: PoolClient, devices: readonly NewDevice[], now: Date): Promise<void> {
  for (let start = 0; start < devices.length; start += INSERT_CHUNK) {
    const chunk = devices.slice(start, start + INSERT_CHUNK);
    const values: unknown[] = [];
    const rows = chunk.map((d) => {
      const base = values.length;
      const o = newDeviceOwnershipValues(d, now);
      values.push(d.devEUI, d.joinEUI, d.macVersion, d.sealedRootKeys, d.vaultKind, d.nsPeer, d.asPeer, now, o.manufacturer, o.owner, o.tokenHash, o.profileID, o.claimedAt);
      return `(${Array.from({ length: 13 }, (_, i) => `$${base + i + 1}`).join(', ')})`;
    });
    // ON CONFLICT DO NOTHING: a DevEUI already there (or being inserted by a concurrent
    // import, which this waits for) is simply not returned; the first such one is named.
    const inserted = await client.query<{ dev_eui: string }>(
      `INSERT INTO devices (dev_eui, join_eui, mac_version, sealed_root_keys, vault_kind, ns_peer, as_peer, created_at,
                            manufacturer_tenant, owner_tenant, owner_token_hash, profile_id, claimed_at)
       VALUES ${rows.join(', ')}
       ON CONFLICT (dev_eui) DO NOTHING
       RETURNING dev_eui`,
      values,
    );
    if (inserted.rowCount !== chunk.length) {
      const got = new Set(inserted.rows.map((r) => r.dev_eui));
      const existing = chunk.find((d) => !got.has(d.devEUI));
      throw new DeviceExistsError((existing ?? chunk[0]!).devEUI);
    }
  }
  // The nonce state of the deleted devices among them, by DevEUI and JoinEUI, in one statement
  // driven by their (DevEUI, JoinEUI) pairs: a primary-key lookup each way per device.
  await client.query(
    `WITH restored AS (
       DELETE FROM retained_nonces AS r USING UNNEST($1::TEXT[], $2::TEXT[]) AS v (dev_eui, join_eui)
        WHERE r.dev_eui = v.dev_eui AND r.join_eui = v.join_eui
       RETURNING ${NONCE_COLUMNS.map((c) => `r.${c}`).join(', ')}, r.dev_eui)
     UPDATE devices SET ${restoreNoncesSet('restored')} FROM restored WHERE devices.dev_eui = restored.dev_eui`,
    [devices.map((d) => d.devEUI), devices.map((d) => d.joinEUI)],
  );
}

function wrap(operation: string, err: unknown): Error {
  if (err instanceof PostgresStoreError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  return new PostgresStoreError(operation, typeof code === 'string' ? code : undefined, message || (typeof code === 'string' ? code : 'failed'));
}

function toInt(value: number | string, field: string): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(n)) throw new Error(`${field}: not an integer`);
  return n;
}

function toDevice(row: DeviceRow): Device {
  const int = (v: number | string, column: string): number => toInt(v, `devices.${column}`);
  return deviceFromRow({
    ...row,
    last_dev_nonce: row.last_dev_nonce === null ? null : int(row.last_dev_nonce, 'last_dev_nonce'),
    used_dev_nonces: row.used_dev_nonces.map((n) => int(n, 'used_dev_nonces')),
    last_join_nonce: row.last_join_nonce === null ? null : int(row.last_join_nonce, 'last_join_nonce'),
    last_rj_count1: row.last_rj_count1 === null ? null : int(row.last_rj_count1, 'last_rj_count1'),
    last_rj_count0: row.last_rj_count0 === null ? null : int(row.last_rj_count0, 'last_rj_count0'),
    rejoin_window_count: int(row.rejoin_window_count, 'rejoin_window_count'),
    version: int(row.version, 'version'),
  });
}

function toSession(row: SessionRow): SessionRecord {
  return sessionFromRow({ ...row, join_nonce: toInt(row.join_nonce, 'sessions.join_nonce') });
}

function toPeer(row: PeerRow): Peer {
  return peerFromRow(row);
}

/** Thrown inside a rebinding transaction to roll it back when the device's binding moved. */
class BindingChanged extends Error {
  constructor() {
    super('the device binding changed');
  }
}

/** The journal's conditional transition (on the pool or inside a transaction). */
async function advanceEntry(q: Pick<Pool, 'query'> | PoolClient, migrationID: string, devEUI: EUI64, from: DeviceMigrationState, c: MigrationEntryChange): Promise<boolean> {
  const r = await q.query(
    `UPDATE fleet_migration_devices
        SET state = $1, attempts = COALESCE($2, attempts),
            failed_step = CASE WHEN $3 THEN $4 ELSE failed_step END,
            last_error = CASE WHEN $5 THEN $6 ELSE last_error END,
            rebound_at = COALESCE($7, rebound_at), joined_at = COALESCE($8, joined_at), updated_at = now()
      WHERE migration_id = $9 AND dev_eui = $10 AND state = $11`,
    [c.state, c.attempts ?? null, c.failedStep !== undefined, c.failedStep ?? null, c.lastError !== undefined, c.lastError ?? null, c.reboundAt ?? null, c.joinedAt ?? null, migrationID, devEUI, from],
  );
  return r.rowCount === 1;
}
