import { promises as fs } from 'node:fs';
import type { Command } from 'commander';
import type { DeviceView } from '../devices/device-view';
import { parseEUI64 } from '../lorawan/identifiers';
import { ParseError } from '../lorawan/parse-error';
import { verifyAuditChain } from '../store/audit-chain';
import { SCOPES } from '../tenants/api-key';
import { TENANT_ROLES } from '../tenants/tenant';
import { call, openAdminClient, withAdminClientOptions, type AdminClient, type RemoteFlags } from './admin-client';
import { openExistingBackends } from './backend-options';
import { reportSkipped, type SkippedDevices } from './import-report';
import { note, say, table } from './output';

interface NewToken {
  readonly devEUI: string;
  readonly joinEUI: string;
  readonly profileID: string;
  readonly ownerToken: string;
  readonly qrPayload: string;
  readonly owner?: string | null;
}

/** `existing`: a read-only command's (no data directory is created where there is none). */
async function withClient<T>(flags: RemoteFlags, run: (client: AdminClient) => Promise<T>, options: { readonly existing?: boolean } = {}): Promise<T> {
  const client = await openAdminClient(flags, options);
  try {
    return await run(client);
  } finally {
    await client.close();
  }
}

function eui(value: string, field = 'DEVEUI'): string {
  return parseEUI64(value, field);
}

/** The labels of pre-provisioned devices: CSV, one line per device (its QR code payload last). */
export function labelsCSV(labels: readonly NewToken[]): string {
  return ['dev_eui,join_eui,profile_id,owner_token,qr_payload', ...labels.map((l) => `${l.devEUI},${l.joinEUI},${l.profileID},${l.ownerToken},${l.qrPayload}`)].join('\n') + '\n';
}

async function writeSecretFile(file: string, content: string): Promise<void> {
  await fs.writeFile(file, content, { mode: 0o600 });
  await fs.chmod(file, 0o600);
}

function showDevice(d: DeviceView): void {
  say(`${d.devEUI}: owner ${d.owner ?? '(not claimed)'}, network server ${d.networkServer ?? '-'}, application server ${d.applicationServer ?? '-'}${d.locked ? ', locked' : ''}`);
}

function showToken(t: NewToken, what: string): void {
  say(`${what} ${t.devEUI}${t.owner ? ` (owner ${t.owner})` : ''}`);
  say(`owner token (shown once): ${t.ownerToken}`);
  say(`QR code payload: ${t.qrPayload}`);
}

export function addOwnershipCommands(program: Command): void {
  const tenants = program.command('tenants').description('tenants: device makers, device owners, the operator (admin)');
  withAdminClientOptions(
    tenants
      .command('add')
      .description('create a tenant and its first API key (every scope), shown once; on a new data directory this is how the first admin key is made')
      .requiredOption('--id <id>', 'tenant id: lower-case letters, digits, "-"')
      .option('--name <name>', 'display name')
      .requiredOption('--roles <roles>', `comma-separated: ${TENANT_ROLES.join(', ')}`),
  ).action(async (flags: RemoteFlags & { id: string; name?: string; roles: string }) => {
    const roles = flags.roles
      .split(',')
      .map((r) => r.trim())
      .filter((r) => r !== '');
    const r = await withClient(flags, (c) => call<{ tenant: { id: string; roles: string[] }; key: string }>(c, 'POST', '/tenants', { id: flags.id, roles, ...(flags.name ? { name: flags.name } : {}) }));
    say(`created tenant ${r.tenant.id} (${r.tenant.roles.join(', ')})`);
    say(`API key (every scope; shown once, keep it secret): ${r.key}`);
  });
  withAdminClientOptions(tenants.command('list').description('tenants').option('--json', 'JSON output')).action(async (flags: RemoteFlags & { json?: boolean }) => {
    const r = await withClient(flags, (c) => call<{ tenants: Array<{ id: string; name: string; roles: string[]; createdAt: string }> }>(c, 'GET', '/tenants'), { existing: true });
    if (flags.json) say(JSON.stringify(r.tenants, null, 2));
    else
      say(
        table(
          ['ID', 'NAME', 'ROLES', 'CREATED'],
          r.tenants.map((t) => [t.id, t.name, t.roles.join(','), t.createdAt]),
        ),
      );
  });

  const keys = program.command('api-keys').description("a tenant's API keys for the admin API (stored hashed, shown once)");
  withAdminClientOptions(
    keys
      .command('create')
      .description('create an API key, shown once')
      .requiredOption('--tenant <tenant>', 'the tenant the key acts for')
      .requiredOption('--scopes <scopes>', `comma-separated: ${SCOPES.join(', ')}`)
      .option('--label <label>', 'what it is for'),
  ).action(async (flags: RemoteFlags & { tenant: string; scopes: string; label?: string }) => {
    const scopes = flags.scopes
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    const r = await withClient(flags, (c) => call<{ apiKey: { id: string }; key: string }>(c, 'POST', `/tenants/${encodeURIComponent(flags.tenant)}/api-keys`, { scopes, ...(flags.label ? { label: flags.label } : {}) }));
    say(`created API key ${r.apiKey.id} for ${flags.tenant} (${scopes.join(', ')})`);
    say(`API key (shown once, keep it secret): ${r.key}`);
  });
  withAdminClientOptions(keys.command('list').description("a tenant's API keys (never their secrets)").requiredOption('--tenant <tenant>', 'tenant')).action(async (flags: RemoteFlags & { tenant: string }) => {
    const r = await withClient(
      flags,
      (c) => call<{ apiKeys: Array<{ id: string; scopes: string[]; label: string; createdAt: string; revokedAt: string | null }> }>(c, 'GET', `/tenants/${encodeURIComponent(flags.tenant)}/api-keys`),
      { existing: true },
    );
    say(
      table(
        ['ID', 'SCOPES', 'LABEL', 'CREATED', 'REVOKED'],
        r.apiKeys.map((k) => [k.id, k.scopes.join(','), k.label, k.createdAt, k.revokedAt ?? '-']),
      ),
    );
  });
  withAdminClientOptions(keys.command('revoke').description('revoke an API key (at once)').argument('<keyID>', 'the key id').requiredOption('--tenant <tenant>', 'tenant')).action(
    async (keyID: string, flags: RemoteFlags & { tenant: string }) => {
      await withClient(flags, (c) => call(c, 'DELETE', `/tenants/${encodeURIComponent(flags.tenant)}/api-keys/${encodeURIComponent(keyID)}`));
      say(`revoked API key ${keyID}`);
    },
  );

  const devices = program.commands.find((c) => c.name() === 'devices');
  if (!devices) throw new Error('the devices command must be registered first');
  withAdminClientOptions(
    devices
      .command('claim')
      .description('claim a device with its owner token (DevEUI + owner token from its label)')
      .argument('<devEUI>', 'DevEUI')
      .requiredOption('--owner-token <token>', 'the owner token (claim code, PIN)'),
  ).action(async (devEUI: string, flags: RemoteFlags & { ownerToken: string }) => {
    const d = await withClient(flags, (c) => call<DeviceView>(c, 'POST', '/claims', { devEUI: eui(devEUI), ownerToken: flags.ownerToken }));
    say('claimed');
    showDevice(d);
  });
  withAdminClientOptions(
    devices
      .command('bind')
      .description('bind a claimed device to a network server (by name, or NetID and NSID) and an application server; joins follow at once')
      .argument('<devEUI>', 'DevEUI')
      .option('--ns <name>', 'network server by name')
      .option('--net-id <netid>', 'network server by its NetID')
      .option('--ns-id <eui>', 'with --net-id: its NSID')
      .option('--as <name>', 'application server by name')
      .option('--no-as', 'no application server')
      .option('--lock', 'lock the device (no transfer or delete until unlocked; its owner may still unclaim it)')
      .option('--unlock', 'unlock the device'),
  ).action(async (devEUI: string, flags: RemoteFlags & { ns?: string; netId?: string; nsId?: string; as?: string | false; lock?: boolean; unlock?: boolean }) => {
    if (flags.lock && flags.unlock) throw new ParseError('--lock', 'give --lock or --unlock, not both');
    const body = {
      ...(flags.ns !== undefined ? { networkServer: flags.ns } : {}),
      ...(flags.netId !== undefined ? { homeNetID: flags.netId } : {}),
      ...(flags.nsId !== undefined ? { homeNSID: flags.nsId } : {}),
      ...(flags.as === false ? { applicationServer: null } : flags.as !== undefined ? { applicationServer: flags.as } : {}),
      ...(flags.lock ? { locked: true } : flags.unlock ? { locked: false } : {}),
    };
    const d = await withClient(flags, (c) => call<DeviceView>(c, 'PUT', `/devices/${eui(devEUI)}/binding`, body));
    say('bound');
    showDevice(d);
  });
  withAdminClientOptions(devices.command('unclaim').description('unclaim a device: no owner, no binding; its owner token stays').argument('<devEUI>', 'DevEUI')).action(async (devEUI: string, flags: RemoteFlags) => {
    await withClient(flags, (c) => call(c, 'DELETE', `/devices/${eui(devEUI)}/claim`));
    say(`unclaimed ${eui(devEUI)}`);
  });
  withAdminClientOptions(
    devices.command('transfer').description('give a device to another owner: theirs, unbound, with a new owner token (shown once)').argument('<devEUI>', 'DevEUI').requiredOption('--to <tenant>', 'the new owner'),
  ).action(async (devEUI: string, flags: RemoteFlags & { to: string }) => {
    const t = await withClient(flags, (c) => call<NewToken>(c, 'POST', `/devices/${eui(devEUI)}/transfer`, { tenant: flags.to }));
    showToken(t, 'transferred');
  });
  withAdminClientOptions(devices.command('regenerate-token').description('a new owner token (the old one stops working), shown once').argument('<devEUI>', 'DevEUI')).action(async (devEUI: string, flags: RemoteFlags) => {
    const t = await withClient(flags, (c) => call<NewToken>(c, 'POST', `/devices/${eui(devEUI)}/owner-token`));
    showToken(t, 'new owner token for');
  });
  withAdminClientOptions(devices.command('delete').description('delete a device and its sessions (audited)').argument('<devEUI>', 'DevEUI')).action(async (devEUI: string, flags: RemoteFlags) => {
    await withClient(flags, (c) => call(c, 'DELETE', `/devices/${eui(devEUI)}`));
    say(`deleted ${eui(devEUI)}`);
  });

  const audit = program.commands.find((c) => c.name() === 'audit');
  if (!audit) throw new Error('the audit command must be registered first');
  withAdminClientOptions(audit.command('verify').description('verify the hash chain of the whole audit trail; exit 1 naming the first entry that does not hold')).action(async (flags: RemoteFlags) => {
    let check: { ok: boolean; entries: number; badID?: number; reason?: string };
    if (flags.url !== undefined) {
      check = await withClient(flags, (c) => call(c, 'GET', '/audit/verify'));
    } else {
      const backends = await openExistingBackends(flags);
      try {
        check = await verifyAuditChain((after, limit) => backends.store.readAuditChain(after, limit));
      } finally {
        await backends.close();
      }
    }
    if (check.ok) {
      say(`audit trail verified: ${check.entries} entries, hash chain intact`);
      return;
    }
    process.exitCode = 1;
    note(`joinery: audit trail broken at entry ${check.badID}: ${check.reason} (${check.entries} entries before it verified)`);
  });

  withAdminClientOptions(
    program
      .command('usage')
      .description('devices activated (first accepted join) per tenant since a date: what a once-per-device fee is charged on')
      .option('--tenant <tenant>', 'this tenant (default: yours; the operator: every tenant)')
      .requiredOption('--since <date>', 'YYYY-MM-DD or ISO 8601')
      .option('--until <date>', 'YYYY-MM-DD or ISO 8601 (exclusive)')
      .option('--format <format>', 'csv or json', 'csv'),
  ).action(async (flags: RemoteFlags & { tenant?: string; since: string; until?: string; format: string }) => {
    if (flags.format !== 'csv' && flags.format !== 'json') throw new ParseError('--format', 'expected csv or json');
    const q = new URLSearchParams({ since: flags.since, format: flags.format, ...(flags.tenant ? { tenant: flags.tenant } : {}), ...(flags.until ? { until: flags.until } : {}) });
    const res = await withClient(
      flags,
      async (c) => {
        const r = await c.request('GET', `/usage?${q.toString()}`);
        if (r.status !== 200) await call(c, 'GET', `/usage?${q.toString()}`);
        return r;
      },
      { existing: true },
    );
    process.stdout.write(flags.format === 'json' ? `${JSON.stringify(res.body, null, 2)}\n` : res.text);
  });
}

/** `devices import` without `--ns`: pre-provisioned devices of the acting tenant (a manufacturer). */
export async function importPreProvisioned(
  file: string,
  content: string,
  flags: RemoteFlags & { labels?: string; transportKek?: string; allowWeakOwnerTokens?: boolean; skipExisting?: boolean },
  format: 'csv' | 'json',
): Promise<void> {
  const body: Record<string, string | boolean> = { content, format };
  if (flags.allowWeakOwnerTokens === true) body['allowWeakOwnerTokens'] = true;
  if (flags.skipExisting === true) body['skipExisting'] = true;
  if (flags.transportKek !== undefined) {
    const { readTransportKEK } = await import('../keys/transport-kek.js');
    body['transportKEK'] = (await readTransportKEK(flags.transportKek)).unsafeBytes().toString('hex');
  }
  const r = await withClient(flags, (c) => call<{ imported: number; labels: NewToken[]; skipped?: SkippedDevices }>(c, 'POST', '/devices/import', body));
  say(`imported ${r.imported} pre-provisioned device${r.imported === 1 ? '' : 's'} from ${file}, not claimed; each has an owner token`);
  if (r.skipped) reportSkipped(r.skipped, format);
  if (flags.labels !== undefined) {
    await writeSecretFile(flags.labels, labelsCSV(r.labels));
    say(`labels (owner tokens and TR005 QR code payloads) in ${flags.labels} (mode 0600): print them, then delete the file; the tokens are not shown again`);
  } else {
    note('joinery: the owner tokens are shown once, here; keep them with the devices (--labels FILE writes them as CSV)');
    process.stdout.write(labelsCSV(r.labels));
  }
}
