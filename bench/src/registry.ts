import { closeSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import * as path from 'node:path';
import { BENCH_JOIN_EUI, BENCH_NET_ID, benchDevice } from './bench-devices';
import { joinery } from './joinery-cli';
import type { ClientTLS } from './load-plan';

export const BENCH_NS = 'bench-ns';

/** A data directory with a network server and `size` devices imported through the CLI. */
export interface Registry {
  readonly dataDir: string;
  readonly size: number;
  readonly seed: string;
  readonly tls: ClientTLS;
  readonly import: { readonly seconds: number; readonly devicesPerSecond: number; readonly databaseBytes: number };
  /** DevNonce of each device's next join: every join run moves it past the DevNonces it used. */
  nonceBase: number;
}

/**
 * Registers a ChirpStack network server (the common case: AppSKey to the network server, no
 * session row per join) and imports `size` devices, half LoRaWAN 1.0.3 and half 1.1, with
 * `joinery devices import` from a CSV file (root keys in clear, sealed by the software vault):
 * the import is timed from the CLI's start to its end, file reading and parsing included.
 */
export async function createRegistry(work: string, name: string, size: number, store?: string, cli?: string): Promise<Registry> {
  const dataDir = path.join(work, name);
  const bundle = path.join(work, `${name}-ns`);
  const seed = `${name}-${process.pid}`;
  const backend = ['--data-dir', dataDir, ...(store ? ['--store', store] : [])];
  await joinery(['ns', 'add', '--name', BENCH_NS, '--net-id', BENCH_NET_ID, '--vendor', 'chirpstack', '--out', bundle, ...backend], process.env, cli);

  const csv = path.join(work, `${name}.csv`);
  writeDeviceFile(csv, seed, size);
  const started = performance.now();
  await joinery(['devices', 'import', csv, '--ns', BENCH_NS, ...backend], process.env, cli);
  const seconds = (performance.now() - started) / 1000;
  rmSync(csv);

  const db = path.join(dataDir, 'joinery.db');
  // SQLite's file and its WAL (PostgreSQL's size is not measured here: 0).
  const databaseBytes = [db, `${db}-wal`].reduce((sum, f) => sum + (statSync(f, { throwIfNoEntry: false })?.size ?? 0), 0);
  const read = (f: string): string => readFileSync(path.join(bundle, f), 'utf8');
  return {
    dataDir,
    size,
    seed,
    tls: { ca: read('ca.crt'), cert: read('client.crt'), key: read('client.key') },
    import: { seconds, devicesPerSecond: size / seconds, databaseBytes },
    nonceBase: 0,
  };
}

function writeDeviceFile(file: string, seed: string, size: number): void {
  const fd = openSync(file, 'w', 0o600);
  try {
    writeSync(fd, 'dev_eui,join_eui,mac_version,app_key,nwk_key\n');
    const CHUNK = 10_000;
    for (let from = 0; from < size; from += CHUNK) {
      const lines: string[] = [];
      for (let i = from; i < Math.min(size, from + CHUNK); i++) {
        const d = benchDevice(seed, i);
        lines.push(`${d.devEUI},${BENCH_JOIN_EUI},${d.macVersion},${d.appKeyHex},${d.nwkKeyHex ?? ''}\n`);
      }
      writeSync(fd, lines.join(''));
    }
  } finally {
    closeSync(fd);
  }
}
