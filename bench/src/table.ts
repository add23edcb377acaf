import type { LatencySummary } from './latency';
import type { BenchResults, OptionalRow } from './results';

const n = (x: number, digits = 0): string => x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const ms = (l: LatencySummary): string => `${n(l.p50, 2)} / ${n(l.p99, 2)} / ${n(l.p999, 2)}`;
const mib = (bytes: number): string => `${n(bytes / 2 ** 20, 0)} MiB`;
const pct = (share: number): string => `${n(share * 100)}%`;
const failed = (f: Readonly<Record<string, number>>): string => {
  const entries = Object.entries(f);
  return entries.length === 0 ? '0' : entries.map(([k, v]) => `${v} ${k}`).join(', ');
};

/** Fixed-width table: every column as wide as its widest cell. */
function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function optional(name: string, row: OptionalRow): string {
  return row.status === 'measured' ? `${name}:\n${row.lines.map((l) => `  ${l}`).join('\n')}` : `${name}: ${row.status} (${row.reason})`;
}

export function printTable(r: BenchResults): void {
  const out: string[] = [];
  const m = r.machine;
  out.push(
    `Joinery ${r.version} benchmark${r.quick ? ' (QUICK: smoke test, numbers mean nothing)' : ''}: ${m.cpus} × ${m.cpuModel}, ${mib(m.memoryBytes)}, node ${m.node}, ${m.platform}, load ${m.loadAverageAtStart} at start, ${n(r.durationSeconds, 0)} s`,
  );
  out.push('', 'Floors (same machine, same run)');
  out.push(
    table(
      ['floor', 'rate/s', 'p50 / p99 / p99.9 ms', 'each run/s'],
      [
        ...r.floors.http.map((h) => [`HTTPS+mTLS, 400 B JSON in, 300 B out, concurrency ${h.concurrency} (median)`, n(h.requestsPerSecond), ms(h.latencyMs), h.runsPerSecond.map((x) => n(x)).join(', ')]),
        ['crypto of one 1.0.3 join, one core', n(r.floors.crypto['1.0.3']), '', ''],
        ['crypto of one 1.1 join, one core', n(r.floors.crypto['1.1']), '', ''],
        ['SQLite durable single-row UPDATE (WAL, synchronous=FULL)', n(r.floors.storage.updatesPerSecond), '', ''],
      ],
    ),
  );
  const w = r.floors.wakePenalty;
  out.push(
    `wake-up cost: the crypto of 5 joins takes ${n(w.backToBackMicros)} µs back to back, ${n(w.afterPauseMicros)} µs right after a ${w.pauseMs} ms sleep (x ${n(w.ratio, 2)}): what each request of an open loop that finds the server idle pays`,
  );
  if (r.joins.length > 0) {
    out.push(
      '',
      'Joins: JoinReq -> JoinAns through the BI listener (HTTPS+mTLS), durable nonces, load generator in its own process; each run right after an HTTP floor run at its concurrency; every JoinReq built before the run (the generator only sends bytes)',
    );
    out.push(
      table(
        ['MAC', 'concurrency', 'joins/s', 'p50 / p99 / p99.9 ms', 'HTTP floor next to it/s', 'x HTTP floor', 'x crypto floor', 'CPU µs/join: server + generator', 'HTTP floor CPU µs/request', 'machine busy', 'failures'],
        r.joins.map((j) => [
          j.macVersion,
          String(j.concurrency),
          n(j.joinsPerSecond),
          ms(j.latencyMs),
          n(j.httpFloorPerSecond),
          n(j.ratioToHttpFloor, 2),
          n(j.ratioToCryptoFloor, 2),
          `${n(j.serverCpuMicrosPerJoin)} + ${n(j.loadGeneratorCpuMicrosPerJoin)}`,
          `${n(j.httpFloorCpu.serverMicros)} + ${n(j.httpFloorCpu.loadGeneratorMicros)}`,
          pct(j.machineBusy),
          failed(j.failures) + (j.trace.builtDuringRun > 0 ? ` (${n(j.trace.builtDuringRun)} JoinReqs built during the run: trace too short)` : ''),
        ]),
      ),
    );
  }
  if (r.cpuBudget) {
    const b = r.cpuBudget;
    out.push(
      `CPU at concurrency ${b.concurrency}, 1.0.3, server and load generator on the same ${m.cpus} cores: HTTP floor ${n(b.floor.serverMicros)} + ${n(b.floor.loadGeneratorMicros)} µs/request (machine ${pct(b.floor.machineBusy)} busy), joins ${n(b.joins.serverMicros)} + ${n(b.joins.loadGeneratorMicros)} µs/join (${pct(b.joins.machineBusy)} busy); ${b.ratio} of the floor here leaves the server ${b.serverMicrosPerJoinForRatio > 0 ? `${n(b.serverMicrosPerJoinForRatio)} µs/join` : `no CPU at all (${n(b.serverMicrosPerJoinForRatio)} µs/join)`} ((${n(b.floor.serverMicros)} + ${n(b.floor.loadGeneratorMicros)}) / ${b.ratio} - ${n(b.joins.loadGeneratorMicros)})`,
    );
  }
  if (r.halfLoad) {
    const h = r.halfLoad;
    out.push(
      `at half the maximum (${n(h.maximumPerSecond)}/s, measured again right before, server CPU ${n(h.maximumServerCpuMicrosPerJoin)} µs/join; open loop, ${n(h.targetPerSecond)}/s offered): ${n(h.joinsPerSecond)} joins/s, p50 / p99 / p99.9 ${ms(h.latencyMs)} ms, failures ${failed(h.failures)}; the load generator sent late by p99 / max ${n(h.sendLagMs.p99, 2)} / ${n(h.sendLagMs.max, 2)} ms (counted in the latency); CPU ${n(h.serverCpuMicrosPerJoin)} + ${n(h.loadGeneratorCpuMicrosPerJoin)} µs/join, machine ${pct(h.machineBusy)} busy`,
    );
  }
  for (const p of r.openLoop.filter((q) => q.fraction !== 0.5)) {
    out.push(
      `at ${p.fraction} of that maximum (open loop, ${n(p.targetPerSecond)}/s offered): ${n(p.joinsPerSecond)} joins/s, p50 / p99 / p99.9 ${ms(p.latencyMs)} ms, failures ${failed(p.failures)}; sent late by p99 / max ${n(p.sendLagMs.p99, 2)} / ${n(p.sendLagMs.max, 2)} ms; CPU ${n(p.serverCpuMicrosPerJoin)} + ${n(p.loadGeneratorCpuMicrosPerJoin)} µs/join, machine ${pct(p.machineBusy)} busy`,
    );
  }
  for (const f of r.floorOpenLoop) {
    const what = f.offered === 'halfFloorMaximum' ? `at half its maximum (${n(f.floorMaximumPerSecond)}/s, measured again right before)` : `at the joins' half-load rate`;
    out.push(
      `the HTTP floor in the same open loop, ${what}, ${n(f.targetPerSecond)}/s offered: p50 / p99 / p99.9 ${ms(f.latencyMs)} ms; sent late by p99 / max ${n(f.sendLagMs.p99, 2)} / ${n(f.sendLagMs.max, 2)} ms; CPU ${n(f.cpu.serverMicros)} + ${n(f.cpu.loadGeneratorMicros)} µs/request, machine ${pct(f.cpu.machineBusy)} busy`,
    );
  }
  if (r.scale.length > 0) {
    out.push('', 'Scale (1.0.3 joins)');
    out.push(
      table(
        ['devices', 'import s', 'import devices/s', 'database', 'server RSS (peak)', 'concurrency', 'joins/s (median)', 'each run/s', 'p50 / p99 / p99.9 ms', 'failures'],
        r.scale.map((s) => [
          n(s.devices),
          n(s.import.seconds, 1),
          n(s.import.devicesPerSecond),
          mib(s.databaseBytes),
          `${mib(s.serverRssBytes)} (${mib(s.serverPeakRssBytes)})`,
          String(s.concurrency),
          n(s.joinsPerSecond),
          s.runsPerSecond.map((x) => n(x)).join(', '),
          ms(s.latencyMs),
          failed(s.failures),
        ]),
      ),
    );
    out.push("each registry on its own server, their runs alternated: the small one's server warm from the join runs, the large one's run first from fresh (below)");
  }
  if (r.freshServer) {
    const f = r.freshServer;
    out.push(
      `a fresh server (${n(f.devices)} devices, concurrency ${f.concurrency}, listening ${n(f.startSeconds, 2)} s after its start), joins in each second from its first request: ${f.perSecond.map((x) => n(x)).join(', ')}; its steady rate ${n(f.steadyPerSecond)}/s`,
    );
    out.push(
      `its restarts, alternated: connecting anew, first seconds ${f.firstSeconds
        .slice(1)
        .map((x) => n(x))
        .join(', ')} (with its first start's, median / steady x ${n(f.firstSecondRatio, 2)})`,
    );
    const a = f.afterRestart;
    if (a)
      out.push(
        `  its load generator offering the TLS session it kept (${n(a.resumed)} of ${n(a.connections)} connections resumed): first seconds ${a.firstSeconds.map((x) => n(x)).join(', ')} (median / steady x ${n(a.firstSecondRatio, 2)})`,
      );
    out.push(
      `  the control, new runs on the server while still warm (the same new connections, no new process): first seconds ${f.warmServer.firstSeconds.map((x) => n(x)).join(', ')} (median / steady x ${n(f.warmServer.firstSecondRatio, 2)})`,
    );
  }
  if (r.storm) {
    const s = r.storm;
    out.push('', `Storm: ${n(s.devices)} devices (half 1.0.3, half 1.1) join once each, ${s.concurrency} at a time, every 100th join replayed (its server, started fresh, run for ${n(s.serverWarmupSeconds, 1)} s first)`);
    out.push(
      `  ${n(s.joined)} joined in ${n(s.seconds, 1)} s (${n(s.joinsPerSecond)} joins/s, ${s.withinOneMinute ? 'within' : 'NOT within'} one minute); p50 / p99 / p99.9 / max ${ms(s.latencyMs)} / ${n(s.latencyMs.max, 2)} ms`,
      `  failures: ${failed(s.failures)}; replays: ${s.replays.sent} sent, ${s.replays.refused} refused (JoinReqFailed), ${s.replays.accepted} accepted, ${s.replays.other} other`,
    );
  }
  out.push('', 'Optional rows');
  out.push(optional('PKCS#11 vault', r.optional.pkcs11Vault), optional('PostgreSQL', r.optional.postgres), optional('migration rate', r.optional.migrationRate));
  if (r.targets.length > 0) {
    out.push('', 'Targets');
    out.push(
      table(
        ['target', 'measured', 'needed', 'met', 'made of'],
        r.targets.map((t) => [t.name, `${n(t.measured, 2)} ${t.unit}`, `${t.comparison} ${n(t.threshold, 2)}`, t.met ? 'yes' : 'NO', t.madeOf ?? '']),
      ),
    );
  }
  console.log(out.join('\n'));
}
