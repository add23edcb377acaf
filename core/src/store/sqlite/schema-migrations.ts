import type { Database } from 'better-sqlite3';
import { checkMigrations, SchemaTooNewError, type Migration } from '../schema-migration';

export { SchemaTooNewError, type Migration } from '../schema-migration';

/**
 * Dates are INTEGER epoch milliseconds (UTC). Identifiers are lower-case hex TEXT. Sealed keys
 * are BLOBs of the vault named in `vault_kind`. Tables are STRICT, so a wrong type is an
 * error rather than a silent conversion.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'devices, sessions, peers',
    up: `
      CREATE TABLE devices (
        dev_eui          TEXT    NOT NULL PRIMARY KEY,
        join_eui         TEXT    NOT NULL,
        mac_version      TEXT    NOT NULL,
        sealed_root_keys BLOB    NOT NULL,
        vault_kind       TEXT    NOT NULL,
        ns_peer          TEXT,
        as_peer          TEXT,
        last_dev_nonce   INTEGER,
        used_dev_nonces  TEXT    NOT NULL DEFAULT '[]',  -- JSON array, oldest first
        last_join_nonce  INTEGER,
        last_rj_count1   INTEGER,
        version          INTEGER NOT NULL DEFAULT 0,
        last_join_at     INTEGER,
        last_join_peer   TEXT,
        created_at       INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX devices_by_ns_peer ON devices (ns_peer, dev_eui);

      CREATE TABLE sessions (
        dev_eui          TEXT    NOT NULL REFERENCES devices (dev_eui) ON DELETE CASCADE,
        session_key_id   TEXT    NOT NULL,
        join_nonce       INTEGER NOT NULL,
        ns_peer          TEXT    NOT NULL,
        as_peer          TEXT,
        sealed_app_s_key BLOB    NOT NULL,
        created_at       INTEGER NOT NULL,
        PRIMARY KEY (dev_eui, session_key_id)
      ) STRICT;
      CREATE INDEX sessions_by_device_age ON sessions (dev_eui, created_at);

      CREATE TABLE peers (
        name             TEXT    NOT NULL PRIMARY KEY,
        kind             TEXT    NOT NULL CHECK (kind IN ('ns', 'as')),
        cert_fingerprint TEXT    NOT NULL UNIQUE,
        kek_label        TEXT    NOT NULL,
        sealed_kek       BLOB    NOT NULL,
        net_id           TEXT,
        ns_id            TEXT,
        vendor           TEXT,
        as_id            TEXT,
        created_at       INTEGER NOT NULL,
        CHECK ((kind = 'ns' AND net_id IS NOT NULL AND vendor IS NOT NULL AND as_id IS NULL)
            OR (kind = 'as' AND as_id IS NOT NULL AND net_id IS NULL AND ns_id IS NULL AND vendor IS NULL))
      ) STRICT;
    `,
  },
  {
    version: 2,
    name: 'peer settings, audit trail',
    up: `
      ALTER TABLE peers ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';
      CREATE TABLE audit_events (
        id      INTEGER PRIMARY KEY AUTOINCREMENT,
        at      INTEGER NOT NULL,
        actor   TEXT    NOT NULL,
        action  TEXT    NOT NULL,
        dev_eui TEXT,
        detail  TEXT    NOT NULL
      ) STRICT;
      CREATE INDEX audit_events_by_device ON audit_events (dev_eui, id);
    `,
  },
  {
    version: 3,
    name: 'tenants, API keys, device ownership and claims, hash-chained audit trail, activations',
    up: `
      CREATE TABLE tenants (
        id         TEXT    NOT NULL PRIMARY KEY,
        name       TEXT    NOT NULL,
        roles      TEXT    NOT NULL,  -- JSON array
        created_at INTEGER NOT NULL
      ) STRICT;
      INSERT INTO tenants (id, name, roles, created_at)
        VALUES ('operator', 'Operator', '["manufacturer","owner","admin"]', CAST(strftime('%s', 'now') AS INTEGER) * 1000);

      CREATE TABLE api_keys (
        id          TEXT    NOT NULL PRIMARY KEY,
        tenant_id   TEXT    NOT NULL REFERENCES tenants (id),
        scopes      TEXT    NOT NULL,  -- JSON array
        label       TEXT    NOT NULL,
        secret_hash TEXT    NOT NULL,
        created_at  INTEGER NOT NULL,
        revoked_at  INTEGER
      ) STRICT;
      CREATE INDEX api_keys_by_tenant ON api_keys (tenant_id, id);

      -- Devices that existed are the operator's, claimed when they were imported.
      ALTER TABLE devices ADD COLUMN manufacturer_tenant TEXT NOT NULL DEFAULT 'operator';
      ALTER TABLE devices ADD COLUMN owner_tenant TEXT;
      ALTER TABLE devices ADD COLUMN owner_token_hash TEXT;
      ALTER TABLE devices ADD COLUMN profile_id TEXT NOT NULL DEFAULT '00000000';
      ALTER TABLE devices ADD COLUMN locked INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE devices ADD COLUMN claimed_at INTEGER;
      ALTER TABLE devices ADD COLUMN activated_at INTEGER;
      ALTER TABLE devices ADD COLUMN activated_tenant TEXT;
      UPDATE devices SET owner_tenant = 'operator', claimed_at = created_at;
      UPDATE devices SET activated_at = last_join_at, activated_tenant = 'operator' WHERE last_join_at IS NOT NULL;
      CREATE INDEX devices_by_owner ON devices (owner_tenant, dev_eui);
      CREATE INDEX devices_by_manufacturer ON devices (manufacturer_tenant, dev_eui);
      CREATE INDEX devices_by_activation ON devices (activated_tenant, activated_at);

      ALTER TABLE peers ADD COLUMN tenant_id TEXT NOT NULL DEFAULT 'operator';

      -- Rows written before the chain get their hashes when the store is opened.
      ALTER TABLE audit_events ADD COLUMN tenant_id TEXT;
      ALTER TABLE audit_events ADD COLUMN source TEXT;
      ALTER TABLE audit_events ADD COLUMN prev_hash TEXT;
      ALTER TABLE audit_events ADD COLUMN hash TEXT;
      CREATE INDEX audit_events_by_tenant ON audit_events (tenant_id, id);
    `,
  },
  {
    version: 4,
    name: 'fleet migrations: overlap binding, migrations, per-device journal',
    up: `
      ALTER TABLE devices ADD COLUMN overlap_ns_peer TEXT;
      CREATE TABLE fleet_migrations (
        id          TEXT    NOT NULL PRIMARY KEY,
        source_peer TEXT    NOT NULL,
        target_peer TEXT    NOT NULL,
        strategy    TEXT    NOT NULL CHECK (strategy IN ('overlap', 'cutover')),
        plan        TEXT    NOT NULL,  -- JSON: selection, limits, rollback at deadline, attempts
        status      TEXT    NOT NULL,
        deadline    INTEGER,
        created_at  INTEGER NOT NULL,
        created_by  TEXT    NOT NULL,
        finished_at INTEGER
      ) STRICT;
      CREATE TABLE fleet_migration_devices (
        migration_id TEXT    NOT NULL REFERENCES fleet_migrations (id) ON DELETE CASCADE,
        dev_eui      TEXT    NOT NULL,
        state        TEXT    NOT NULL,
        attempts     INTEGER NOT NULL DEFAULT 0,
        failed_step  TEXT,
        last_error   TEXT,
        rebound_at   INTEGER,
        joined_at    INTEGER,
        updated_at   INTEGER NOT NULL,
        PRIMARY KEY (migration_id, dev_eui)
      ) STRICT;
      CREATE INDEX fleet_migration_devices_by_state ON fleet_migration_devices (migration_id, state, dev_eui);
      CREATE INDEX fleet_migration_devices_by_device ON fleet_migration_devices (dev_eui, state);
    `,
  },
  {
    version: 5,
    name: 'join history per device, device search by JoinEUI prefix',
    up: `
      CREATE TABLE device_joins (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        dev_eui     TEXT    NOT NULL REFERENCES devices (dev_eui) ON DELETE CASCADE,
        join_eui    TEXT    NOT NULL,
        at          INTEGER NOT NULL,
        peer        TEXT    NOT NULL,
        join_type   TEXT    NOT NULL CHECK (join_type IN ('join', 'rejoin-0', 'rejoin-1', 'rejoin-2')),
        mac_version TEXT    NOT NULL,
        result      TEXT    NOT NULL,
        description TEXT,
        dev_nonce   INTEGER,
        join_nonce  INTEGER
      ) STRICT;
      CREATE INDEX device_joins_by_device ON device_joins (dev_eui, id);
      -- DevEUI prefixes range over the primary key; JoinEUI prefixes over this.
      CREATE INDEX devices_by_join_eui ON devices (join_eui, dev_eui);
    `,
  },
  {
    version: 6,
    name: 'change counters for the caches of every process (peers)',
    up: `
      CREATE TABLE change_counters (
        id    INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
        peers INTEGER NOT NULL
      ) STRICT;
      INSERT INTO change_counters (id, peers) VALUES (1, 0);
      CREATE TRIGGER peers_inserted AFTER INSERT ON peers BEGIN UPDATE change_counters SET peers = peers + 1; END;
      CREATE TRIGGER peers_updated AFTER UPDATE ON peers BEGIN UPDATE change_counters SET peers = peers + 1; END;
      CREATE TRIGGER peers_deleted AFTER DELETE ON peers BEGIN UPDATE change_counters SET peers = peers + 1; END;
    `,
  },
  {
    version: 7,
    name: 'RJcount0 since the last join-accept, and the rejoin rate window, of each device',
    up: `
      ALTER TABLE devices ADD COLUMN last_rj_count0 INTEGER;
      ALTER TABLE devices ADD COLUMN rejoin_window_start INTEGER;
      ALTER TABLE devices ADD COLUMN rejoin_window_count INTEGER NOT NULL DEFAULT 0;
    `,
  },
  {
    version: 8,
    name: 'nonce state a deleted device leaves behind, by DevEUI and JoinEUI (see retained-nonces.ts)',
    // The devices table's nonce columns, with the same types and defaults.
    up: `
      CREATE TABLE retained_nonces (
        dev_eui         TEXT    NOT NULL,
        join_eui        TEXT    NOT NULL,
        last_dev_nonce  INTEGER,
        used_dev_nonces TEXT    NOT NULL DEFAULT '[]',
        last_join_nonce INTEGER,
        last_rj_count1  INTEGER,
        last_rj_count0  INTEGER,
        rejoin_window_start INTEGER,
        rejoin_window_count INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (dev_eui, join_eui)
      ) STRICT;
    `,
  },
  {
    version: 9,
    name: 'rate-limit token buckets shared by every process (owner-token guesses; see rate-buckets.ts)',
    up: `
      CREATE TABLE rate_buckets (
        key        TEXT    NOT NULL PRIMARY KEY,
        tokens     REAL    NOT NULL,
        at_ms      INTEGER NOT NULL,
        full_at_ms INTEGER NOT NULL  -- full again from then on: the row may go
      ) STRICT;
      CREATE INDEX rate_buckets_by_full_at ON rate_buckets (full_at_ms);
    `,
  },
  {
    version: 10,
    name: 'store settings (the master key check value)',
    up: `
      CREATE TABLE store_settings (
        name  TEXT NOT NULL PRIMARY KEY,
        value TEXT NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 11,
    name: 'peer lifecycle: state, the set of client certificates, and their fingerprints',
    // Every peer so far has one certificate, its current one, whose expiry was not kept.
    up: `
      ALTER TABLE peers ADD COLUMN state TEXT NOT NULL DEFAULT 'enabled' CHECK (state IN ('enabled', 'disabled'));
      ALTER TABLE peers ADD COLUMN certificates TEXT NOT NULL DEFAULT '[]';
      UPDATE peers SET certificates = json_array(json_object(
        'fingerprint', cert_fingerprint,
        'issuedAt', strftime('%Y-%m-%dT%H:%M:%fZ', created_at / 1000.0, 'unixepoch'),
        'notAfter', NULL,
        'retiresAt', NULL));
      CREATE TABLE peer_fingerprints (
        fingerprint TEXT NOT NULL PRIMARY KEY,
        peer_name   TEXT NOT NULL
      ) STRICT;
      CREATE INDEX peer_fingerprints_by_peer ON peer_fingerprints (peer_name);
      INSERT INTO peer_fingerprints (fingerprint, peer_name) SELECT cert_fingerprint, name FROM peers;
      -- A peer's recent join results (ns show, the console's network server page).
      CREATE INDEX device_joins_by_peer ON device_joins (peer, at);
    `,
  },
  {
    version: 12,
    name: 'join history by time (the join-rate chart)',
    // Joins per minute of every network server read only the last hour's rows.
    up: `
      CREATE INDEX device_joins_by_time ON device_joins (at);
    `,
  },
  {
    version: 13,
    name: 'change counter of devices (the devices a server keeps for the join)',
    // Every write to a device but a join commit bumps it: a join commit is the one update that
    // writes last_join_at (always the join's own time), and it is conditional on the version read,
    // so a kept copy it outdates only loses its next commit (join-device-cache.ts). A join commit
    // that happens to write the same last_join_at bumps it too, which only drops the kept copies.
    // Inserts need none: only devices that exist are kept.
    up: `
      ALTER TABLE change_counters ADD COLUMN devices INTEGER NOT NULL DEFAULT 0;
      CREATE TRIGGER devices_updated AFTER UPDATE ON devices WHEN NEW.last_join_at IS OLD.last_join_at
        BEGIN UPDATE change_counters SET devices = devices + 1; END;
      CREATE TRIGGER devices_deleted AFTER DELETE ON devices BEGIN UPDATE change_counters SET devices = devices + 1; END;
    `,
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS.reduce((max, m) => Math.max(max, m.version), 0);

/**
 * Brings the database to the latest schema, in one IMMEDIATE transaction (so two processes
 * opening a new file at once do not both migrate it: the second waits, then finds nothing to
 * do). Throws SchemaTooNewError, changing nothing, when the database is ahead of this code.
 * Returns the versions it applied (empty when the schema was already current).
 */
export function migrate(db: Database, migrations: readonly Migration[] = MIGRATIONS): number[] {
  checkMigrations(migrations);
  const latest = migrations.reduce((max, m) => Math.max(max, m.version), 0);
  const run = db.transaction((): number[] => {
    db.exec(`
      CREATE TABLE IF NOT EXISTS schema_migrations (
        version    INTEGER NOT NULL PRIMARY KEY,
        name       TEXT    NOT NULL,
        applied_at INTEGER NOT NULL
      ) STRICT
    `);
    const row = db.prepare('SELECT MAX(version) AS version FROM schema_migrations').get() as { version: number | null };
    const current = row.version ?? 0;
    if (current > latest) throw new SchemaTooNewError(current, latest);
    const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
    const applied: number[] = [];
    for (const m of migrations) {
      if (m.version <= current) continue;
      db.exec(m.up);
      record.run(m.version, m.name, Date.now());
      applied.push(m.version);
    }
    return applied;
  });
  return run.immediate();
}
