import { parseEUI64 } from '../../lorawan/identifiers';
import type { Resealer, SealedBlobOwner, SealedSettings } from '../ports/sealed-settings';
import type { SealedCanary } from '../sealed-canary';
import type { StoreSettingName } from '../store-setting';
import { count, firstRow, rows, type SqlRunner } from './sql-work';

/** Blobs read per page by resealAll. */
const RESEAL_BATCH = 500;

/** One kind of sealed blob: its table's page query (keyset on `key`), its conditional update, and whose it is. */
interface BlobPass<R> {
  readonly what: string;
  readonly key: readonly string[];
  readonly blob: string;
  readonly table: string;
  readonly first: readonly string[];
  readonly owner: (r: R) => SealedBlobOwner;
}

/** Store-wide settings and the sealed blobs as a whole, the same SQL on both databases. */
export class SqlSealedSettings implements SealedSettings {
  constructor(private readonly sql: SqlRunner) {}

  async getSetting(name: StoreSettingName): Promise<string | null> {
    return (await this.sql.run(`reading the setting ${name}`, firstRow<{ value: string }>('SELECT value FROM store_settings WHERE name = ?', [name])))?.value ?? null;
  }

  async putSetting(name: StoreSettingName, value: string): Promise<void> {
    await this.sql.run(`writing the setting ${name}`, count('INSERT INTO store_settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value', [name, value]));
  }

  async putSettingIfAbsent(name: StoreSettingName, value: string): Promise<string> {
    await this.sql.run(`writing the setting ${name}`, count('INSERT INTO store_settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING', [name, value]));
    const now = await this.getSetting(name);
    if (now === null) throw new Error(`writing the setting ${name}: the setting vanished as it was written`);
    return now;
  }

  async sealedCanary(vaultKind: string): Promise<SealedCanary | null> {
    const device = await this.sql.run('reading a sealed canary', firstRow<{ dev_eui: string; sealed_root_keys: Buffer }>('SELECT dev_eui, sealed_root_keys FROM devices WHERE vault_kind = ? LIMIT 1', [vaultKind]));
    if (device) return { kind: 'device', devEUI: parseEUI64(device.dev_eui, 'devices.dev_eui'), sealed: device.sealed_root_keys };
    const peer = await this.sql.run('reading a sealed canary', firstRow<{ name: string; sealed_kek: Buffer }>('SELECT name, sealed_kek FROM peers LIMIT 1'));
    return peer ? { kind: 'peer', name: peer.name, sealed: peer.sealed_kek } : null;
  }

  /** Page by page (not one transaction: the vault is awaited between the statements); each blob replaced only while unchanged. */
  async resealAll(reseal: Resealer): Promise<number> {
    const dialect = this.sql.dialect;
    let replaced = 0;
    const pass = async <R extends Record<string, unknown>>(p: BlobPass<R>): Promise<void> => {
      const keys = p.key.map((k) => dialect.text(k));
      const page = `SELECT ${[...p.key, p.blob].join(', ')} FROM ${p.table} WHERE (${keys.join(', ')}) > (${keys.map(() => '?').join(', ')}) ORDER BY ${keys.join(', ')} LIMIT ?`;
      const update = `UPDATE ${p.table} SET ${p.blob} = ? WHERE ${p.key.map((k) => `${k} = ?`).join(' AND ')} AND ${p.blob} = ?`;
      let after: readonly unknown[] = p.first;
      for (;;) {
        const found = await this.sql.run(`resealing ${p.what}`, rows<R>(page, [...after, RESEAL_BATCH]));
        if (found.length === 0) return;
        for (const r of found) {
          const blob = r[p.blob] as Buffer;
          const next = await reseal(blob, p.owner(r));
          if (next && (await this.sql.run(`resealing ${p.what}`, count(update, [next, ...p.key.map((k) => r[k]), blob]))) === 1) replaced++;
        }
        const last = found[found.length - 1]!;
        after = p.key.map((k) => last[k]);
      }
    };
    await pass<{ dev_eui: string }>({ what: 'devices', table: 'devices', key: ['dev_eui'], blob: 'sealed_root_keys', first: [''], owner: (r) => ({ kind: 'device', devEUI: parseEUI64(r.dev_eui) }) });
    await pass<{ name: string }>({ what: 'peers', table: 'peers', key: ['name'], blob: 'sealed_kek', first: [''], owner: (r) => ({ kind: 'peer', name: r.name }) });
    // Other instances' peer caches read the new KEK blobs from their next turn on.
    for (const s of dialect.bumpPeerChanges) await this.sql.run('resealing peers', count(s.sql, s.params));
    await pass<{ dev_eui: string; session_key_id: string }>({
      what: 'sessions',
      table: 'sessions',
      key: ['dev_eui', 'session_key_id'],
      blob: 'sealed_app_s_key',
      first: ['', ''],
      owner: (r) => ({ kind: 'session', devEUI: parseEUI64(r.dev_eui), sessionKeyID: r.session_key_id }),
    });
    return replaced;
  }
}
