import { promises as fs } from 'node:fs';
import { Option, type Command } from 'commander';
import { Registry } from 'prom-client';
import { ParseError } from '../lorawan/parse-error';
import { MigrationMetrics } from '../metrics/migration-metrics';
import type { DeviceSelectionJSON } from '../fleet-migration/device-selection';
import { describeSelection } from '../fleet-migration/device-selection';
import { MIGRATION_ID_PATTERN, type FleetMigration } from '../store/fleet-migration-journal';
import { openMigrationAdapters } from '../fleet-migration/migration-adapters';
import { prepareResume, requestRollback } from '../fleet-migration/migration-control';
import { MigrationError } from '../fleet-migration/migration-error';
import { ProgressMeter, progressLine, settledCount } from '../fleet-migration/migration-progress';
import { terminalProgress } from './terminal-progress';
import { describeCounts, migrationReport, migrationSummary, type MigrationReport } from '../fleet-migration/migration-report';
import { parseMigrationRequest, type MigrationRequestJSON } from '../fleet-migration/migration-request';
import { runMigration } from '../fleet-migration/migration-runner';
import { createMigration, planMigration, type MigrationPlan } from '../fleet-migration/plan-migration';
import { parseVendorLimitFlags } from '../fleet-migration/vendor-limits';
import { sleep } from '../retry/backoff';
import { openBackends, type Backends } from '../server/open-backends';
import { readAdapterAPIKey } from '../adapters/adapter-api-key-store';
import { backendSettings, withBackendOptions, type BackendFlags } from './backend-options';
import { cliActor } from './cli-actor';
import { note, say, table } from './output';

interface PlanFlags extends BackendFlags {
  readonly from: string;
  readonly to: string;
  readonly devices?: string[];
  readonly devicesFile?: string;
  readonly joinEuiPrefix?: string;
  readonly macVersion?: string;
  readonly strategy: string;
  readonly rateLimit?: string[];
  readonly deadline?: string;
  readonly rollbackAtDeadline?: boolean;
  readonly maxAttempts?: string;
  readonly json?: boolean;
}

interface RunFlags extends BackendFlags {
  readonly removeNetworkServerKeys?: boolean;
  readonly pollMs?: string;
  readonly progressInterval?: string;
}

function withPlanOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--from <ns>', 'the source network server (peer name): devices bound to it move')
    .requiredOption('--to <ns>', 'the target network server (peer name)')
    .option('--devices <devEUI...>', 'only these DevEUIs (space or comma separated)')
    .option('--devices-file <file>', 'only the DevEUIs in this file (one per line, or CSV with a dev_eui column first)')
    .option('--join-eui-prefix <prefix>', 'only devices with a JoinEUI in this range (e.g. 70b3d57ed0000000/40)')
    .option('--mac-version <version>', 'only devices of this LoRaWAN version')
    .addOption(
      new Option('--strategy <strategy>', 'overlap: both network servers may join until the device joins through the target; cutover: the target only, at once').choices(['overlap', 'cutover']).default('overlap'),
    )
    .option('--rate-limit <vendor=rate/concurrency...>', 'per vendor: API calls per second and in flight (default 10/4), e.g. the-things-stack=20/8 chirpstack=50')
    .option('--deadline <time>', 'devices that have not joined through the target by then are reported (ISO 8601 time, or 90s, 30m, 12h, 7d from now)')
    .option('--rollback-at-deadline', 'at the deadline, move those devices back to the source')
    .option('--max-attempts <n>', 'failed attempts of one step (a 429 is not one) before a device is parked (default 8)');
}

function withRunOptions(cmd: Command): Command {
  return cmd
    .option('--remove-network-server-keys', 'a device the target already has and joins itself (its own device keys, its own Join Server record): remove that through its API (audited) instead of parking the device')
    .option('--progress-interval <seconds>', 'when the output is not a terminal: a progress line every N seconds (default 10)')
    .addOption(new Option('--poll-ms <ms>', 'how often the journal is read for joins through the target (default 1000)').hideHelp());
}

async function requestFrom(flags: PlanFlags): Promise<MigrationRequestJSON> {
  const listed = [...(flags.devices ?? []).flatMap((d) => d.split(','))];
  if (flags.devicesFile) {
    const text = await fs.readFile(flags.devicesFile, 'utf8');
    for (const line of text.split(/\r?\n/)) {
      const first = line.split(',')[0]!.trim();
      if (first !== '' && first.toLowerCase() !== 'dev_eui' && !first.startsWith('#')) listed.push(first);
    }
  }
  const filtered = flags.joinEuiPrefix !== undefined || flags.macVersion !== undefined;
  if (listed.length > 0 && filtered) throw new ParseError('--devices', 'give a list of DevEUIs or a filter (--join-eui-prefix, --mac-version), not both');
  const selection: DeviceSelectionJSON =
    listed.filter((d) => d.trim() !== '').length > 0
      ? { kind: 'dev-euis', devEUIs: listed.map((d) => d.trim()).filter((d) => d !== '') }
      : filtered
        ? { kind: 'filter', joinEUIPrefix: flags.joinEuiPrefix ?? null, macVersion: flags.macVersion ?? null }
        : { kind: 'all' };
  const maxAttempts = flags.maxAttempts === undefined ? undefined : Number(flags.maxAttempts);
  return {
    sourcePeer: flags.from,
    targetPeer: flags.to,
    strategy: flags.strategy,
    selection,
    limits: parseVendorLimitFlags(flags.rateLimit ?? []),
    deadline: flags.deadline ?? null,
    rollbackAtDeadline: flags.rollbackAtDeadline === true,
    ...(maxAttempts !== undefined ? { maxAttempts } : {}),
  };
}

function describePlan(plan: MigrationPlan): string[] {
  const r = plan.request;
  const lines = [`${r.strategy} migration from ${plan.source.name} (${plan.source.vendor}) to ${plan.target.name} (${plan.target.vendor})`, `  devices: ${plan.devEUIs.length} (${describeSelection(r.selection)})`];
  for (const s of plan.skipped) lines.push(`  not moved: ${s.devEUI}: ${s.reason}`);
  lines.push(
    r.strategy === 'overlap'
      ? `  each device: registered on ${plan.target.name}, then may join through both; once it joins through ${plan.target.name} it is bound to it alone and removed from ${plan.source.name}`
      : `  each device: registered on ${plan.target.name}, bound to it alone, and removed from ${plan.source.name} at once (its next join goes to ${plan.target.name})`,
  );
  for (const c of plan.calls) lines.push(`  ${c.peer} (${c.vendor}): ${c.calls} API calls at ${c.ratePerSecond}/s: at least ${Math.ceil(c.seconds)} s`);
  lines.push(
    `  deadline: ${r.deadline ? `${r.deadline.toISOString()}${r.rollbackAtDeadline ? ', then devices that have not joined through the target go back to the source' : ', then devices that have not joined through the target are reported'}` : 'none'}`,
  );
  return lines;
}

function planJSON(plan: MigrationPlan): unknown {
  return {
    sourcePeer: plan.source.name,
    targetPeer: plan.target.name,
    strategy: plan.request.strategy,
    devices: plan.devEUIs.length,
    devEUIs: plan.devEUIs,
    skipped: plan.skipped,
    calls: plan.calls,
    deadline: plan.request.deadline?.toISOString() ?? null,
    rollbackAtDeadline: plan.request.rollbackAtDeadline,
  };
}

/** Runs a migration in this process until it settles, showing progress; SIGINT/SIGTERM stop it (resume continues). */
async function runInForeground(backends: Backends, migration: FleetMigration, flags: RunFlags): Promise<FleetMigration> {
  const source = await backends.store.getPeer(migration.sourcePeer);
  const target = await backends.store.getPeer(migration.targetPeer);
  if (!source || source.kind !== 'ns' || !target || target.kind !== 'ns') throw new MigrationError('peer-not-found', `the network servers of ${migration.id} are no longer registered`);
  const adapters = await openMigrationAdapters(source, target, (name) => readAdapterAPIKey(backends.settings.dataDir, name));
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const progress = await startProgress(backends, migration.id, flags);
  try {
    const pollMs = flags.pollMs === undefined ? undefined : Number(flags.pollMs);
    return await runMigration(migration.id, {
      store: backends.store,
      adapters,
      actor: cliActor(),
      metrics: new MigrationMetrics(new Registry()),
      signal: stop.signal,
      ...(pollMs !== undefined && pollMs > 0 ? { pollMs } : {}),
      removeLocalJoins: flags.removeNetworkServerKeys === true,
      onEvent: (line) => progress.event(line),
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await progress.stop();
    await adapters.close();
  }
}

/**
 * A live bar on a terminal (stderr: terminalProgress, with the status and counts per state),
 * else a plain line every --progress-interval seconds.
 */
async function startProgress(backends: Backends, id: string, flags: { readonly progressInterval?: string }): Promise<{ event(line: string): void; stop(): Promise<void> }> {
  const tty = process.stderr.isTTY === true;
  const meter = new ProgressMeter();
  const intervalMs = tty ? 500 : Math.max(1, Number(flags.progressInterval ?? 10)) * 1000;
  const bar = tty ? terminalProgress('migrating', (await migrationSummary(backends.store, id)).total, 'devices') : null;
  const show = async (): Promise<void> => {
    const summary = await migrationSummary(backends.store, id);
    if (bar) bar.update(settledCount(summary), `${summary.status} | ${describeCounts(summary.counts)}`);
    else say(progressLine({ summary, ratePerSecond: meter.sample(settledCount(summary)) }));
  };
  const timer = setInterval(() => void show().catch(() => undefined), intervalMs);
  return {
    event(line) {
      if (bar) bar.log(line);
      else say(line);
    },
    async stop() {
      clearInterval(timer);
      await show().catch(() => undefined);
      bar?.stop();
    },
  };
}

function finalWords(m: FleetMigration, counts: Record<string, number>): void {
  say(`migration ${m.id} ${m.status}: ${describeCounts(counts as never)}`);
  if (m.status === 'running' || m.status === 'rolling-back') say(`stopped; continue with: joinery migrate resume ${m.id}`);
}

function migrationID(value: string): string {
  if (!MIGRATION_ID_PATTERN.test(value)) throw new ParseError('ID', `not a migration id (mig- and 12 hex digits): "${value}"`);
  return value;
}

/** `existing`: a read-only command's (no data directory is created where there is none). */
async function withBackends<T>(flags: BackendFlags, fn: (b: Backends) => Promise<T>, options: { readonly existing?: boolean } = {}): Promise<T> {
  const backends = await openBackends(backendSettings(flags), process.env, { existing: options.existing === true });
  try {
    for (const c of backends.created) note(`joinery: created ${c}`);
    return await fn(backends);
  } finally {
    await backends.close();
  }
}

function reportTable(r: MigrationReport): string {
  const rows = r.devices.map((d) => [d.devEUI, d.state, d.failedStep ?? '', String(d.attempts), d.joinedAt ?? '', (d.lastError ?? '').slice(0, 80)]);
  return [
    `migration ${r.id}: ${r.strategy} from ${r.sourcePeer} to ${r.targetPeer}, ${r.status}${r.finishedAt ? ` at ${r.finishedAt}` : ''}`,
    `created ${r.createdAt} by ${r.createdBy}; deadline ${r.deadline ?? 'none'}${r.rollbackAtDeadline ? ' (rollback at deadline)' : ''}`,
    `${r.total} devices: ${describeCounts(r.counts)}`,
    '',
    table(['DEVEUI', 'STATE', 'FAILED AT', 'ATTEMPTS', 'JOINED VIA TARGET', 'LAST ERROR'], rows),
  ].join('\n');
}

export function addMigrateCommands(program: Command): void {
  const migrate = program.command('migrate').description('move a fleet from one network server to another, through their adapters, without re-keying a device');

  withPlanOptions(withBackendOptions(migrate.command('plan').description('print what a migration would do; changes nothing').option('--json', 'as JSON'))).action(async (flags: PlanFlags) => {
    const request = parseMigrationRequest(await requestFrom(flags));
    await withBackends(flags, async (b) => {
      const plan = await planMigration(b.store, request);
      if (flags.json) say(JSON.stringify(planJSON(plan), null, 2));
      else for (const l of describePlan(plan)) say(l);
    });
  });

  withRunOptions(withPlanOptions(withBackendOptions(migrate.command('apply').description('create a migration and run it here until every device is settled (stop it any time: resume continues)')))).action(
    async (flags: PlanFlags & RunFlags) => {
      const request = parseMigrationRequest(await requestFrom(flags));
      await withBackends(flags, async (b) => {
        const plan = await planMigration(b.store, request);
        for (const l of describePlan(plan)) say(l);
        const m = await createMigration(b.store, plan, cliActor());
        say(`migration ${m.id} created`);
        const end = await runInForeground(b, m, flags);
        finalWords(end, (await migrationSummary(b.store, m.id)).counts);
      });
    },
  );

  withRunOptions(withBackendOptions(migrate.command('resume').description('continue a migration from its journal (after a stop or a crash); parked devices get another round').argument('<id>', 'migration id'))).action(
    async (id: string, flags: RunFlags) => {
      await withBackends(flags, async (b) => {
        const { migration, unparked } = await prepareResume(b.store, migrationID(id), cliActor());
        say(`resuming ${migration.id} (${migration.status})${unparked > 0 ? `; ${unparked} parked device(s) get another round` : ''}`);
        const end = await runInForeground(b, migration, flags);
        finalWords(end, (await migrationSummary(b.store, migration.id)).counts);
      });
    },
  );

  withRunOptions(withBackendOptions(migrate.command('rollback').description('move every device that has not joined through the target back to the source').argument('<id>', 'migration id'))).action(
    async (id: string, flags: RunFlags) => {
      await withBackends(flags, async (b) => {
        const m = await requestRollback(b.store, migrationID(id), cliActor());
        say(`rolling back ${m.id}`);
        const end = m.status === 'rolled-back' ? m : await runInForeground(b, m, flags);
        finalWords(end, (await migrationSummary(b.store, m.id)).counts);
      });
    },
  );

  withBackendOptions(
    migrate
      .command('status')
      .description('devices per state; on a terminal a live progress bar with rate and ETA until the migration settles')
      .argument('<id>', 'migration id')
      .option('--json', 'as JSON')
      .option('--watch', 'when not a terminal: a line every --progress-interval seconds until it settles')
      .option('--progress-interval <seconds>', 'seconds between lines with --watch (default 10)'),
  ).action(async (id: string, flags: BackendFlags & { json?: boolean; watch?: boolean; progressInterval?: string }) => {
    await withBackends(
      flags,
      async (b) => {
        const summary = await migrationSummary(b.store, migrationID(id));
        if (flags.json) return say(JSON.stringify(summary, null, 2));
        const live = (process.stdout.isTTY === true || flags.watch === true) && (summary.status === 'running' || summary.status === 'rolling-back');
        if (!live) return say(progressLine({ summary, ratePerSecond: null }));
        const progress = await startProgress(b, summary.id, flags);
        try {
          for (;;) {
            await sleep(500);
            const s = await migrationSummary(b.store, summary.id);
            if (s.status !== 'running' && s.status !== 'rolling-back') break;
          }
        } finally {
          await progress.stop();
        }
      },
      { existing: true },
    );
  });

  withBackendOptions(migrate.command('report').description('every device of a migration: state, where it failed, when it joined through the target').argument('<id>', 'migration id').option('--json', 'as JSON')).action(
    async (id: string, flags: BackendFlags & { json?: boolean }) => {
      await withBackends(
        flags,
        async (b) => {
          const report = await migrationReport(b.store, migrationID(id));
          say(flags.json ? JSON.stringify(report, null, 2) : reportTable(report));
        },
        { existing: true },
      );
    },
  );

  withBackendOptions(migrate.command('list').description('migrations, newest first').option('--json', 'as JSON')).action(async (flags: BackendFlags & { json?: boolean }) => {
    await withBackends(
      flags,
      async (b) => {
        const list = await b.store.listFleetMigrations(100);
        const summaries = await Promise.all(list.map((m) => migrationSummary(b.store, m.id)));
        if (flags.json) return say(JSON.stringify(summaries, null, 2));
        say(
          table(
            ['ID', 'FROM', 'TO', 'STRATEGY', 'STATUS', 'DEVICES', 'CREATED'],
            summaries.map((s) => [s.id, s.sourcePeer, s.targetPeer, s.strategy, s.status, `${settledCount(s)}/${s.total} settled`, s.createdAt]),
          ),
        );
      },
      { existing: true },
    );
  });
}
