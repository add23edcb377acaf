import { createReadStream, promises as fs } from 'node:fs';
import type { Command } from 'commander';
import { detectImportFormat, importUnit, parseDeviceImportFile } from '../devices/device-import-file';
import { streamDeviceImportCSVOnThread } from '../devices/device-import-thread';
import { importDevices } from '../devices/import-devices';
import { readTransportKEK } from '../keys/transport-kek';
import { parseEUI64 } from '../lorawan/identifiers';
import { ParseError } from '../lorawan/parse-error';
import { joinRecordView } from '../devices/device-view';
import { openBackends } from '../server/open-backends';
import type { Device } from '../store/device';
import { cliAuditContext } from './cli-actor';
import { backendSettings, openExistingBackends, withBackendOptions, type BackendFlags } from './backend-options';
import { note, say, table } from './output';
import { withAdminClientOptions, type RemoteFlags } from './admin-client';
import { importPreProvisioned } from './ownership-commands';
import { reportSkipped } from './import-report';
import { terminalProgress } from './terminal-progress';

interface ImportFlags extends RemoteFlags {
  readonly ns?: string;
  readonly labels?: string;
  readonly as?: string;
  readonly transportKekFile?: string;
  readonly allowWeakOwnerTokens?: boolean;
  readonly skipExisting?: boolean;
}
interface ListFlags extends BackendFlags {
  readonly ns?: string;
  readonly limit: string;
  readonly offset: string;
  readonly json?: boolean;
}
interface ShowFlags extends BackendFlags {
  readonly json?: boolean;
}

/** What the CLI shows of a device: identities, binding and nonce state. Never a key. */
export function deviceView(d: Device): Record<string, string | number | null> {
  return {
    devEUI: d.devEUI,
    joinEUI: d.joinEUI,
    macVersion: d.macVersion,
    networkServer: d.nsPeer,
    migratingTo: d.overlapNsPeer,
    applicationServer: d.asPeer,
    lastDevNonce: d.nonces.lastDevNonce,
    usedDevNonces: d.nonces.usedDevNonces.length,
    lastJoinNonce: d.nonces.lastJoinNonce,
    lastJoinAt: d.lastJoinAt ? d.lastJoinAt.toISOString() : null,
    lastJoinNetworkServer: d.lastJoinPeer,
    createdAt: d.createdAt.toISOString(),
  };
}

function positiveInt(value: string, field: string, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > max) throw new ParseError(field, `expected an integer 0..${max}`);
  return n;
}

export function addDevicesCommands(program: Command): void {
  const devices = program.command('devices').description('devices and their root keys (keys go in, never out)');

  withAdminClientOptions(
    devices
      .command('import')
      .description(
        'import devices from CSV (header dev_eui,join_eui,mac_version,app_key,nwk_key[,owner_token,profile_id]) or a JSON array; all or nothing. ' +
          "With --ns: the operator's own devices, bound to it. Without: pre-provisioned devices of a manufacturer, not claimed, each with an owner token",
      )
      .argument('<file>', 'CSV or JSON file')
      .option('--ns <name>', "network server the devices are bound to (may join through): the operator's own devices (local data directory only)")
      .option('--labels <file>', 'pre-provisioned devices: write their owner tokens and QR code payloads to this CSV file (mode 0600)')
      .option('--as <name>', 'application server that receives the AppSKeys')
      .option('--skip-existing', 'devices whose DevEUI exists already are left as they are and listed; the rest are imported (default: the whole import is refused)')
      .option(
        '--allow-weak-owner-tokens',
        "pre-provisioned devices: accept owner tokens shorter than 8 characters (refused by default: a short token can be guessed within the claim rate limits over a device's lifetime)",
      )
      .option('--transport-kek-file <file>', 'the keys in FILE are RFC 3394-wrapped (48 hex digits) under this transport KEK (32 hex digits, mode 0600); the vault unwraps them (a PKCS#11 vault inside the HSM)'),
  ).action(async (file: string, flags: ImportFlags) => {
    // A bound import of a CSV file is read as a stream, a chunk at a time (a million devices are
    // never held whole), parsed (and, for the software vault, sealed) on a thread of its own
    // while this one inserts; JSON files and pre-provisioned devices (their labels) are read whole.
    const streamed = flags.ns !== undefined && detectImportFormat(file, await readHead(file)) === 'csv';
    let content = '';
    if (!streamed) {
      try {
        content = await fs.readFile(file, 'utf8');
      } catch (e) {
        throw new ParseError('FILE', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
      }
    }
    const format = streamed ? 'csv' : detectImportFormat(file, content);
    if (flags.ns === undefined) {
      if (flags.as !== undefined) throw new ParseError('--as', 'only with --ns (a claimed device is bound by its owner: joinery devices bind)');
      await importPreProvisioned(file, content, { ...flags, ...(flags.transportKekFile !== undefined ? { transportKek: flags.transportKekFile } : {}) }, format);
      return;
    }
    if (flags.allowWeakOwnerTokens === true) throw new ParseError('--allow-weak-owner-tokens', 'only for pre-provisioned devices (without --ns): devices bound with --ns have no owner token');
    if (flags.url !== undefined || flags.asTenant !== undefined) throw new ParseError('--ns', "binds the operator's own devices on the local data directory: not with --url or --as-tenant");
    const wrapped = flags.transportKekFile !== undefined;
    // A file read whole is parsed before anything is opened: a bad file changes nothing.
    const parsed = streamed ? null : parseDeviceImportFile(content, format, { wrappedKeys: wrapped });
    const kek = wrapped ? await readTransportKEK(flags.transportKekFile!) : undefined;
    const backends = await openBackends(backendSettings(flags));
    // Keys in clear for the software vault are sealed on the parsing thread as well, under the
    // master key just opened here: only sealed blobs come back from it.
    const sealWith = !wrapped && backends.vault.kind === 'software' ? { dataDir: backends.settings.dataDir } : undefined;
    // Streamed: read again from the file if the import is run again (skipExisting lost a race to another import).
    const rows = parsed ?? (() => streamDeviceImportCSVOnThread(file, { wrappedKeys: wrapped, ...(sealWith ? { sealWith } : {}) }));
    const transportKEK = kek ? await backends.vault.importKey(kek) : undefined;
    const progress = terminalProgress('importing', process.stderr.isTTY === true ? (parsed?.length ?? (await countDataLines(file))) : 0, 'devices');
    try {
      for (const c of backends.created) note(`joinery: created ${c}`);
      const s = await importDevices({ store: backends.store, vault: backends.vault }, rows, { kind: 'bound', nsPeer: flags.ns, asPeer: flags.as ?? null }, importUnit(format), {
        audit: cliAuditContext(),
        ...(transportKEK ? { transportKEK } : {}),
        skipExisting: flags.skipExisting === true,
        onProgress: (n) => progress.update(n),
      });
      progress.stop();
      if (!wrapped) {
        note(`joinery: warning: the root keys were read in clear from ${file}; delete it, or have the keys sent wrapped under a transport KEK (--transport-kek-file)`);
      }
      say(`imported ${s.imported} device${s.imported === 1 ? '' : 's'} (${s.legacy} LoRaWAN 1.0.x, ${s.v11} LoRaWAN 1.1), bound to network server ${s.nsPeer}` + (s.asPeer ? ` and application server ${s.asPeer}` : ''));
      if (flags.skipExisting) reportSkipped(s.skipped, format);
    } finally {
      progress.stop();
      if (transportKEK) backends.vault.release(transportKEK);
      await backends.close();
    }
  });

  withBackendOptions(
    devices
      .command('list')
      .description('list devices: identities, MAC version, binding, nonces, last join (never a key)')
      .option('--ns <name>', 'only devices bound to this network server')
      .option('--limit <n>', 'at most this many', '100')
      .option('--offset <n>', 'skip this many', '0')
      .option('--json', 'JSON output'),
  ).action(async (flags: ListFlags) => {
    const limit = positiveInt(flags.limit, '--limit', 1_000_000);
    const offset = positiveInt(flags.offset, '--offset', Number.MAX_SAFE_INTEGER);
    const backends = await openExistingBackends(flags);
    try {
      for (const c of backends.created) note(`joinery: created ${c}`);
      const list = await backends.store.listDevices({ limit, offset, ...(flags.ns ? { nsPeer: flags.ns } : {}) });
      if (flags.json) {
        say(JSON.stringify(list.map(deviceView), null, 2));
        return;
      }
      const total = await backends.store.countDevices();
      say(
        table(
          ['DEVEUI', 'JOINEUI', 'MAC', 'NETWORK SERVER', 'APP SERVER', 'LAST DEVNONCE', 'JOINNONCE', 'LAST JOIN'],
          list.map((d) => [
            d.devEUI,
            d.joinEUI,
            d.macVersion,
            d.nsPeer ?? '-',
            d.asPeer ?? '-',
            d.nonces.lastDevNonce === null ? '-' : String(d.nonces.lastDevNonce),
            d.nonces.lastJoinNonce === null ? '-' : String(d.nonces.lastJoinNonce),
            d.lastJoinAt ? d.lastJoinAt.toISOString() : 'never',
          ]),
        ),
      );
      note(`${list.length} shown, ${total} device${total === 1 ? '' : 's'} in all`);
    } finally {
      await backends.close();
    }
  });

  withBackendOptions(
    devices.command('show').description('one device: identities, MAC version, binding, nonces, last join (never a key)').argument('<devEUI>', 'DevEUI (16 hex digits)').option('--json', 'JSON output'),
  ).action(async (devEUIArg: string, flags: ShowFlags) => {
    const devEUI = parseEUI64(devEUIArg, 'DEVEUI');
    const backends = await openExistingBackends(flags);
    try {
      for (const c of backends.created) note(`joinery: created ${c}`);
      const d = await backends.store.getDevice(devEUI);
      if (!d) {
        process.exitCode = 1;
        note(`joinery: no device ${devEUI}`);
        return;
      }
      const view = deviceView(d);
      if (flags.json) say(JSON.stringify(view, null, 2));
      else for (const [k, v] of Object.entries(view)) say(`${`${k}:`.padEnd(24)}${v ?? '-'}`);
    } finally {
      await backends.close();
    }
  });

  withBackendOptions(
    devices
      .command('joins')
      .description("a device's join history, newest first: every join-request and rejoin-request that reached it, accepted or refused (never a key)")
      .argument('<devEUI>', 'DevEUI (16 hex digits)')
      .option('--limit <n>', 'at most this many (1-50)', '20')
      .option('--json', 'JSON output'),
  ).action(async (devEUIArg: string, flags: ShowFlags & { limit: string }) => {
    const devEUI = parseEUI64(devEUIArg, 'DEVEUI');
    const limit = Number(flags.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 50) throw new ParseError('--limit', 'expected 1 to 50');
    const backends = await openExistingBackends(flags);
    try {
      for (const c of backends.created) note(`joinery: created ${c}`);
      if (!(await backends.store.getDevice(devEUI))) {
        process.exitCode = 1;
        note(`joinery: no device ${devEUI}`);
        return;
      }
      const joins = (await backends.store.listJoinRecords(devEUI, limit)).map(joinRecordView);
      if (flags.json) say(JSON.stringify(joins, null, 2));
      else if (joins.length === 0) say('no join yet');
      else {
        for (const j of joins) {
          const nonces = `DevNonce ${j.devNonce ?? '-'}${j.joinNonce !== null ? ` JoinNonce ${j.joinNonce}` : ''}`;
          say(`${j.at}  ${j.networkServer.padEnd(16)} ${j.joinType.padEnd(8)} ${j.macVersion.padEnd(6)} ${j.result.padEnd(20)} ${nonces}${j.description ? `  (${j.description})` : ''}`);
        }
      }
    } finally {
      await backends.close();
    }
  });
}

/** The first 64 KiB of a file (enough to tell CSV from JSON); a file that cannot be read is a ParseError. */
async function readHead(file: string): Promise<string> {
  try {
    const handle = await fs.open(file, 'r');
    try {
      const buffer = Buffer.alloc(64 * 1024);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
      return buffer.subarray(0, bytesRead).toString('utf8');
    } finally {
      await handle.close();
    }
  } catch (e) {
    throw new ParseError('FILE', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}

/** The data lines of a CSV file (its lines but the header), counted as a stream: the bar's total. */
async function countDataLines(file: string): Promise<number> {
  let lines = 0;
  let last = 10;
  for await (const chunk of createReadStream(file)) {
    const bytes = chunk as Buffer;
    for (let i = bytes.indexOf(10); i !== -1; i = bytes.indexOf(10, i + 1)) lines++;
    if (bytes.length > 0) last = bytes[bytes.length - 1]!;
  }
  return Math.max(0, lines + (last === 10 ? 0 : 1) - 1);
}
