import { devicesOfVersion } from './bench-devices';
import { JoinBodies } from './join-bodies';
import type { LoadPlan } from './load-plan';

/**
 * The requests of a run, built before it starts, as a recorded trace would be: during the timed
 * run the load generator only sends bytes, for joins as for the HTTP floor's fixed body. Before,
 * it built each JoinReq (the CMAC included) while it ran: 155-176 µs of its CPU a join against
 * 93-131 a floor request, on the cores the server shares, so the join's ratio to the floor
 * measured the generator as well as the server.
 *
 * A closed loop's length is a duration, not a count: its trace is sized for `plan.expectedPerSecond`
 * (the floor's rate next to it, which a join run does not exceed on a steady machine) with a
 * margin of 2, and never for fewer than 3,000 a second: on a loaded machine the floor measured
 * a moment before can be half of what the join run then reaches (seen: a quick run's trace
 * short by 296 requests at a margin of 1.3). Building ahead costs nothing measured. A worker that
 * runs out builds the rest as it goes, and the report counts those (`builtDuringRun`, 0 when the
 * trace was long enough).
 */
export interface JoinTrace {
  /** Closed loop (and each-once): worker `w`'s `k`th request. */
  closed(w: number, k: number): Buffer;
  /** Open loop: the `i`th request (the first `concurrency` open the connections, before the schedule). */
  open(i: number): Buffer;
  /** Bodies built before the run. */
  readonly size: number;
  /** Bodies built during the run because the trace ran out. */
  readonly builtDuringRun: number;
  /** Highest visit (a device's join count in the run) of a request sent so far, plus one. */
  readonly visitsPerDevice: number;
}

/** How much longer than expected a closed loop's trace is. */
const MARGIN = 2;
/** A closed loop's trace without a hint: requests per second of the run. */
const DEFAULT_PER_SECOND = 3_000;

export function buildTrace(plan: LoadPlan): JoinTrace {
  const t = plan.traffic;
  const s = plan.schedule;
  if (t.kind === 'fixed') {
    const body = Buffer.from(t.body, 'utf8');
    return { closed: () => body, open: () => body, size: 1, builtDuringRun: 0, visitsPerDevice: 0 };
  }
  const devices = devicesOfVersion(t.registrySize, t.macVersion);
  const bodies = new JoinBodies(t.seed, t.macVersion);
  const c = plan.concurrency;
  let transactionID = 1;
  let builtDuringRun = 0;
  let visitsPerDevice = 0;
  const make = (j: number, visit: number): Buffer => Buffer.from(bodies.body(j, t.nonceBase + visit, transactionID++), 'utf8');
  // DevNonces are 16 bits: a trace stops short of the last one, a run that needs it still fails.
  const buildable = (visit: number): boolean => t.nonceBase + visit <= 0xffff;
  if (s.kind === 'rate') {
    // Round robin over the devices: a device comes round again only after all the others. The
    // first `concurrency` requests open the run's connections, before its schedule.
    const total = c + Math.floor(s.perSecond * (s.warmupSeconds + s.seconds));
    const trace: Buffer[] = [];
    for (let i = 0; i < total && buildable(Math.floor(i / devices)); i++) trace.push(make(i % devices, Math.floor(i / devices)));
    return {
      open(i) {
        const visit = Math.floor(i / devices);
        visitsPerDevice = Math.max(visitsPerDevice, visit + 1);
        const b = trace[i];
        if (b !== undefined) return b;
        builtDuringRun++;
        return make(i % devices, visit);
      },
      closed: () => {
        throw new Error('an open-loop trace has no workers');
      },
      size: trace.length,
      get builtDuringRun() {
        return builtDuringRun;
      },
      get visitsPerDevice() {
        return visitsPerDevice;
      },
    };
  }
  // Closed loop: worker w owns devices w, w+C, w+2C... (so one device's joins never overlap);
  // its kth request is device w + C * (k % own) at visit floor(k / own).
  const owned = (w: number): number => Math.ceil(Math.max(0, devices - w) / c);
  const perWorker = s.kind === 'each-once' ? Infinity : Math.ceil((Math.max(plan.expectedPerSecond ?? 0, DEFAULT_PER_SECOND) * (s.warmupSeconds + s.seconds) * MARGIN) / c);
  const traces: Buffer[][] = [];
  let size = 0;
  for (let w = 0; w < c; w++) {
    const own = owned(w);
    const n = Math.min(perWorker, s.kind === 'each-once' ? own : Infinity);
    const list: Buffer[] = [];
    for (let k = 0; k < n && own > 0 && buildable(Math.floor(k / own)); k++) list.push(make(w + c * (k % own), Math.floor(k / own)));
    traces.push(list);
    size += list.length;
  }
  return {
    closed(w, k) {
      const own = owned(w);
      const visit = Math.floor(k / own);
      visitsPerDevice = Math.max(visitsPerDevice, visit + 1);
      const b = traces[w]![k];
      if (b !== undefined) return b;
      builtDuringRun++;
      return make(w + c * (k % own), visit);
    },
    open: () => {
      throw new Error('a closed-loop trace has no schedule');
    },
    size,
    get builtDuringRun() {
      return builtDuringRun;
    },
    get visitsPerDevice() {
      return visitsPerDevice;
    },
  };
}
