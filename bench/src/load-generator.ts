import * as https from 'node:https';
import * as tls from 'node:tls';
import { devicesOfVersion } from './bench-devices';
import { buildTrace, type JoinTrace } from './join-trace';
import { LatencyRecorder } from './latency';
import { openLoop } from './open-loop';
import type { LoadPlan, LoadReport } from './load-plan';

/**
 * The load generator, a process of its own (forked by the benchmark; a plan is prepared, its requests built, then run on a second message), so
 * the server under test and the client do not share an event loop. HTTPS with keep-alive and
 * the network server's client certificate; one socket per request in flight.
 */

interface Outcome {
  readonly status: number;
  readonly resultCode: string | undefined;
}

const RESULT_CODE = Buffer.from('"ResultCode":"');

/**
 * The answer's ResultCode, found in its bytes (no JSON parse): the same cost for a JoinAns and
 * for the HTTP floor's answer, so the generator spends on both what it spends on HTTP.
 */
export function resultCodeOf(body: Buffer): string | undefined {
  const at = body.indexOf(RESULT_CODE);
  if (at < 0) return undefined;
  const from = at + RESULT_CODE.length;
  const to = body.indexOf(0x22, from);
  return to < 0 ? undefined : body.toString('latin1', from, to);
}

function post(url: URL, agent: https.Agent, body: Buffer): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': body.length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, resultCode: resultCodeOf(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A plan whose requests are built (see JoinTrace): `run` only sends them. */
export interface PreparedPlan {
  /** Requests built before the run. */
  readonly traceSize: number;
  readonly buildSeconds: number;
  run(): Promise<LoadReport>;
}

export function preparePlan(plan: LoadPlan): PreparedPlan {
  const builtAt = performance.now();
  const trace = buildTrace(plan);
  // A full collection before each run (the process runs with --expose-gc), so that no run pays
  // for the garbage of the runs and traces before it: without it, every other run cost the
  // generator about 10% more CPU a request and slowed the floor run after it, which favoured the
  // second side of every alternated comparison (bench/README.md).
  (globalThis as { gc?: () => void }).gc?.();
  return { traceSize: trace.size, buildSeconds: (performance.now() - builtAt) / 1000, run: () => runTrace(plan, trace) };
}

export async function runPlan(plan: LoadPlan): Promise<LoadReport> {
  return preparePlan(plan).run();
}

async function runTrace(plan: LoadPlan, trace: JoinTrace): Promise<LoadReport> {
  // One TLS context for every connection of the run, as a network server builds its TLS
  // configuration once: given ca, cert and key, node builds a context (parsing the PEMs) for
  // each connection, and the first second of a run paid it 64 times.
  const secureContext = tls.createSecureContext({ ca: plan.tls.ca, cert: plan.tls.cert, key: plan.tls.key });
  const connections = { opened: 0, resumed: 0, session: null as Buffer | null };
  const resumeSession = plan.resumeSession !== undefined ? Buffer.from(plan.resumeSession, 'base64') : undefined;
  const targets = plan.urls.map((u) => ({ url: new URL(u), agent: tracingAgent(new https.Agent({ keepAlive: true, maxSockets: plan.concurrency, secureContext }), connections, resumeSession) }));
  const latency = new LatencyRecorder();
  const failures: Record<string, number> = {};
  const replays = { sent: 0, refused: 0, accepted: 0, other: 0 };
  let requests = 0;
  let ok = 0;
  let completed = 0;
  const completedPerSecond: number[] = [];
  let measuring = plan.schedule.kind === 'each-once';
  const sendLag = new LatencyRecorder();
  let joined = 0;
  const t = plan.traffic;
  const joins = t.kind === 'joins' ? t : null;
  const devices = joins ? devicesOfVersion(joins.registrySize, joins.macVersion) : 0;

  /** `measured`: whether this request counts (the open loop decides per request); else whether measuring when it ends. */
  const send = async (body: Buffer, startedAt: number, replay: boolean, w = 0, measured?: boolean): Promise<boolean> => {
    const { url, agent } = targets[w % targets.length]!;
    let outcome: Outcome;
    try {
      outcome = await post(url, agent, body);
    } catch (err) {
      outcome = { status: 0, resultCode: `transport error: ${(err as Error).message}` };
    }
    completed++;
    const now = performance.now();
    const second = Math.floor((now - started) / 1000);
    while (completedPerSecond.length <= second) completedPerSecond.push(0);
    completedPerSecond[second]!++;
    if (!(measured ?? measuring)) return outcome.status === 200;
    const ms = now - startedAt;
    const success = outcome.status === 200 && (t.kind === 'fixed' || outcome.resultCode === 'Success');
    if (replay) {
      replays.sent++;
      if (outcome.resultCode === 'JoinReqFailed') replays.refused++;
      else if (success) replays.accepted++;
      else replays.other++;
      return success;
    }
    requests++;
    latency.record(ms);
    if (success) ok++;
    else {
      const key = outcome.status === 200 ? (outcome.resultCode ?? 'no ResultCode') : outcome.status === 0 ? (outcome.resultCode ?? 'transport error') : `HTTP ${outcome.status}`;
      failures[key] = (failures[key] ?? 0) + 1;
    }
    return success;
  };

  /** Closed loop: worker `w` sends its part of the trace (see JoinTrace) in order. */
  const worker = async (w: number, keepGoing: () => boolean, once: boolean): Promise<void> => {
    const own = joins ? Math.ceil(Math.max(0, devices - w) / plan.concurrency) : 1;
    if (own === 0) return;
    for (let k = 0; keepGoing(); k++) {
      if (once && k >= own) return;
      const body = trace.closed(w, k);
      const succeeded = await send(body, performance.now(), false, w);
      const every = joins?.replayEvery;
      // Every `every`th successful join of the run (all workers together) is replayed at once.
      if (succeeded && every !== undefined && ++joined % every === 0) await send(body, performance.now(), true, w);
    }
  };

  const started = performance.now();
  let measuredFrom = started;
  const s = plan.schedule;
  try {
    if (s.kind === 'duration') {
      const warmEnd = started + s.warmupSeconds * 1000;
      const end = warmEnd + s.seconds * 1000;
      const warmTimer = setTimeout(() => {
        measuring = true;
        measuredFrom = performance.now();
      }, s.warmupSeconds * 1000);
      await Promise.all(Array.from({ length: plan.concurrency }, (_, w) => worker(w, () => performance.now() < end, false)));
      clearTimeout(warmTimer);
    } else if (s.kind === 'each-once') {
      await Promise.all(Array.from({ length: plan.concurrency }, (_, w) => worker(w, () => true, true)));
    } else {
      // The connections first, as a network server sending at this rate holds them open: the
      // trace's first `concurrency` requests at once, unmeasured, before the schedule's clock
      // starts. Opened on the schedule instead, their mTLS handshakes (at 256 connections,
      // most of a second of the server's CPU and the generator's) left a backlog that the
      // schedule carried into its measured seconds. Then the warm-up, at the rate, unmeasured.
      const connect = plan.concurrency;
      await Promise.all(Array.from({ length: connect }, (_, i) => send(trace.open(i), performance.now(), false, i, false)));
      const warm = Math.floor(s.perSecond * s.warmupSeconds);
      await openLoop(s.perSecond, s.warmupSeconds + s.seconds, plan.concurrency, (i, scheduledAt, lagMs) => {
        const measured = i >= warm;
        if (i === warm) measuredFrom = scheduledAt;
        if (measured) sendLag.record(lagMs);
        return send(trace.open(connect + i), scheduledAt, false, i, measured);
      });
    }
  } finally {
    for (const t of targets) t.agent.destroy();
  }
  const seconds = (performance.now() - measuredFrom) / 1000;
  return {
    requests,
    ok,
    seconds,
    perSecond: ok / seconds,
    latencyMs: latency.summary(),
    sendLagMs: s.kind === 'rate' ? sendLag.summary() : null,
    failures,
    replays,
    completed,
    completedPerSecond,
    visitsPerDevice: trace.visitsPerDevice,
    trace: { size: trace.size, builtDuringRun: trace.builtDuringRun },
    tls: { connections: connections.opened, resumed: connections.resumed, session: connections.session?.toString('base64') ?? null },
  };
}

/**
 * The agent's connections counted (and how many resumed a TLS session), the last session the
 * server gave kept; with `resume`, every new connection offers that session first (node's agent
 * offers the one it cached from its own connections otherwise). Per connection, not per request.
 */
function tracingAgent(agent: https.Agent, seen: { opened: number; resumed: number; session: Buffer | null }, resume: Buffer | undefined): https.Agent {
  type CreateConnection = (options: tls.ConnectionOptions, callback?: () => void) => tls.TLSSocket;
  const base = agent as unknown as { createConnection: CreateConnection };
  const create = base.createConnection.bind(agent);
  base.createConnection = (options, callback) => {
    const socket = create(resume ? { ...options, session: resume } : options, callback);
    socket.once('secureConnect', () => {
      seen.opened++;
      if (socket.isSessionReused()) seen.resumed++;
    });
    socket.on('session', (session: Buffer) => (seen.session = session));
    return socket;
  };
  return agent;
}

/** What the benchmark's process sends: build a plan's trace, then run it (see LoadGeneratorProcess). */
export type LoadGeneratorMessage = { readonly kind: 'prepare'; readonly plan: LoadPlan } | { readonly kind: 'run' };

if (require.main === module) {
  let prepared: PreparedPlan | undefined;
  const fail = (err: unknown): void => void process.send!({ ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  process.on('message', (m: LoadGeneratorMessage) => {
    if (m.kind === 'prepare') {
      try {
        prepared = preparePlan(m.plan);
        process.send!({ ok: true, prepared: { traceSize: prepared.traceSize, buildSeconds: prepared.buildSeconds } });
      } catch (err) {
        fail(err);
      }
      return;
    }
    const p = prepared;
    prepared = undefined;
    if (!p) return fail(new Error('run without a prepared plan'));
    p.run().then((report) => process.send!({ ok: true, report }), fail);
  });
}
