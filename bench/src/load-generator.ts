import * as https from 'node:https';
import { devicesOfVersion } from './bench-devices';
import { JoinBodies } from './join-bodies';
import { LatencyRecorder } from './latency';
import type { LoadPlan, LoadReport } from './load-plan';

/**
 * The load generator, a process of its own (forked by the benchmark, one plan per message), so
 * the server under test and the client do not share an event loop. HTTPS with keep-alive and
 * the network server's client certificate; one socket per request in flight.
 */

interface Outcome {
  readonly status: number;
  readonly resultCode: string | undefined;
}

function post(url: URL, agent: https.Agent, body: string): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          let resultCode: string | undefined;
          try {
            resultCode = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { Result?: { ResultCode?: string } }).Result?.ResultCode;
          } catch {
            resultCode = undefined;
          }
          resolve({ status: res.statusCode ?? 0, resultCode });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export async function runPlan(plan: LoadPlan): Promise<LoadReport> {
  const targets = plan.urls.map((u) => ({ url: new URL(u), agent: new https.Agent({ keepAlive: true, maxSockets: plan.concurrency, ca: plan.tls.ca, cert: plan.tls.cert, key: plan.tls.key }) }));
  const latency = new LatencyRecorder();
  const failures: Record<string, number> = {};
  const replays = { sent: 0, refused: 0, accepted: 0, other: 0 };
  let requests = 0;
  let ok = 0;
  let completed = 0;
  const completedPerSecond: number[] = [];
  let measuring = plan.schedule.kind === 'each-once';
  const sendLag = new LatencyRecorder();
  let visitsPerDevice = 0;
  let transactionID = 1;
  let joined = 0;
  const t = plan.traffic;
  const devices = t.kind === 'joins' ? devicesOfVersion(t.registrySize, t.macVersion) : 0;
  const joins = t.kind === 'joins' ? (plan as LoadPlan & { traffic: { kind: 'joins' } }) : null;
  const bodies = t.kind === 'joins' ? new JoinBodies(t.seed, t.macVersion) : null;

  /** `measured`: whether this request counts (the open loop decides per request); else whether measuring when it ends. */
  const send = async (body: string, startedAt: number, replay: boolean, w = 0, measured?: boolean): Promise<boolean> => {
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

  /** Closed loop: worker `w` owns devices w, w+C, w+2C... (so one device's joins never overlap). */
  const worker = async (w: number, keepGoing: () => boolean, once: boolean): Promise<void> => {
    const c = plan.concurrency;
    const own = joins ? Math.ceil(Math.max(0, devices - w) / c) : 1;
    if (own === 0) return;
    for (let k = 0; keepGoing(); k++) {
      if (once && k >= own) return;
      const visit = Math.floor(k / own);
      if (!joins || !bodies) {
        await send((t as { body: string }).body, performance.now(), false, w);
        continue;
      }
      const j = w + c * (k % own);
      visitsPerDevice = Math.max(visitsPerDevice, visit + 1);
      const body = bodies.body(j, joins.traffic.nonceBase + visit, transactionID++);
      const succeeded = await send(body, performance.now(), false, w);
      const every = joins.traffic.replayEvery;
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
      // The warm-up runs at the same rate, unmeasured: the connections (mTLS handshakes, up to
      // `concurrency` of them) are opened then, as in the closed loop's warm-up.
      const warm = Math.floor(s.perSecond * s.warmupSeconds);
      await openLoop(s.perSecond, s.warmupSeconds + s.seconds, plan.concurrency, (i, scheduledAt, lagMs) => {
        const measured = i >= warm;
        if (i === warm) measuredFrom = scheduledAt;
        if (measured) sendLag.record(lagMs);
        if (!joins || !bodies) return send((t as { body: string }).body, scheduledAt, false, i, measured);
        // Round robin over the devices: a device comes round again only after all the others.
        const visit = Math.floor(i / devices);
        visitsPerDevice = Math.max(visitsPerDevice, visit + 1);
        return send(bodies.body(i % devices, joins.traffic.nonceBase + visit, transactionID++), scheduledAt, false, i, measured);
      });
    }
  } finally {
    for (const t of targets) t.agent.destroy();
  }
  const seconds = (performance.now() - measuredFrom) / 1000;
  return { requests, ok, seconds, perSecond: ok / seconds, latencyMs: latency.summary(), sendLagMs: s.kind === 'rate' ? sendLag.summary() : null, failures, replays, completed, completedPerSecond, visitsPerDevice };
}

/**
 * Requests at fixed times (i / perSecond), latency from the scheduled time; at most `cap` in
 * flight. `lagMs`: how late the request leaves (the generator's own event loop, or `cap` reached).
 */
async function openLoop(perSecond: number, seconds: number, cap: number, fire: (i: number, scheduledAt: number, lagMs: number) => Promise<unknown>): Promise<void> {
  const started = performance.now();
  const total = Math.floor(perSecond * seconds);
  const inFlight = new Set<Promise<unknown>>();
  for (let i = 0; i < total; i++) {
    const at = started + (i * 1000) / perSecond;
    const wait = at - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    while (inFlight.size >= cap) await Promise.race(inFlight);
    const p: Promise<unknown> = fire(i, at, Math.max(0, performance.now() - at)).finally(() => inFlight.delete(p));
    inFlight.add(p);
  }
  await Promise.all(inFlight);
}

if (require.main === module) {
  process.on('message', (plan: LoadPlan) => {
    runPlan(plan).then(
      (report) => process.send!({ ok: true, report }),
      (err: unknown) => process.send!({ ok: false, error: err instanceof Error ? err.stack ?? err.message : String(err) }),
    );
  });
}
