import type { BenchMACVersion } from './bench-devices';
import type { RunCpu } from './cpu-meter';
import type { WakePenalty } from './wake-penalty';
import type { LatencySummary } from './latency';
import type { LoadReport } from './load-plan';

/** The shape of bench-results.json. */
export interface BenchResults {
  readonly benchmark: 'joinery';
  readonly version: string;
  readonly quick: boolean;
  readonly startedAt: string;
  readonly durationSeconds: number;
  readonly machine: Machine;
  readonly floors: {
    /** Per concurrency: the median of its runs (the first, and one next to each join run), and every run. */
    readonly http: readonly { readonly concurrency: number; readonly requestsPerSecond: number; readonly latencyMs: LatencySummary; readonly runsPerSecond: readonly number[] }[];
    readonly crypto: Readonly<Record<BenchMACVersion, number>>;
    readonly storage: { readonly updatesPerSecond: number };
    /** The same work back to back and right after a 1 ms sleep (see wake-penalty.ts). */
    readonly wakePenalty: WakePenalty;
  };
  readonly joins: readonly JoinRow[];
  /** `maximumPerSecond`: the best concurrency's closed loop run again right before; the open loop offers half of it. */
  /** The target's run: the open loop's half, with the maximum it is half of. */
  readonly halfLoad:
    | null
    | (Omit<OpenLoopPoint, 'fraction'> & {
        readonly macVersion: BenchMACVersion;
        readonly maximumPerSecond: number;
        /** The server's CPU time (all threads) per join in the run that measured the maximum. */
        readonly maximumServerCpuMicrosPerJoin: number;
      });
  /** Open-loop runs at fractions of the same maximum (a quarter, and the half above): latency and CPU per join as the load falls. */
  readonly openLoop: readonly OpenLoopPoint[];
  /**
   * The HTTP floor in the same open loop as the half-load run: at half its own maximum, and at
   * the joins' half-load rate. What the machine and the load generator give at that load with
   * no join work at all: the half-load target's limit on this machine.
   */
  readonly floorOpenLoop: readonly FloorOpenLoopPoint[];
  /** The c64 target's CPU budget on this machine (null when that run was not made). */
  readonly cpuBudget: CpuBudget | null;
  readonly scale: readonly ScaleRow[];
  /** The large scale point's server before it was measured (null when not run). */
  readonly freshServer: FreshServer | null;
  readonly storm: StormRow | null;
  readonly optional: {
    readonly pkcs11Vault: OptionalRow;
    readonly postgres: OptionalRow;
    readonly migrationRate: OptionalRow;
  };
  readonly targets: readonly Target[];
}

export interface OpenLoopPoint {
  /** Of the maximum measured right before the half-load run. */
  readonly fraction: number;
  readonly targetPerSecond: number;
  readonly joinsPerSecond: number;
  readonly latencyMs: LatencySummary;
  readonly sendLagMs: LatencySummary;
  readonly failures: LoadReport['failures'];
  /** The server's CPU time (all its threads) per join: the whole run's, warm-up included, over every request it completed. */
  readonly serverCpuMicrosPerJoin: number;
  readonly loadGeneratorCpuMicrosPerJoin: number;
  /** Share of the machine's cores busy during the run, 0..1. */
  readonly machineBusy: number;
}

export interface FloorOpenLoopPoint {
  /** Half the floor's own maximum (measured right before, at the same concurrency), or the rate of the joins' half-load run. */
  readonly offered: 'halfFloorMaximum' | 'joinsHalfLoadRate';
  readonly floorMaximumPerSecond: number;
  readonly targetPerSecond: number;
  readonly requestsPerSecond: number;
  readonly latencyMs: LatencySummary;
  readonly sendLagMs: LatencySummary;
  readonly cpu: RunCpu;
}

/**
 * The 1.0.3 join run at concurrency 64 and the HTTP floor run next to it, each sharing the
 * machine's cores with its load generator. When both keep the machine busy (CPU-bound), a run's
 * rate is the cores divided by what its server and its load generator spend per request; so
 * `ratio` of the floor's rate leaves the server (floor server + generator, per request) / ratio
 * - generator per join: `serverMicrosPerJoinForRatio`.
 */
export interface CpuBudget {
  readonly concurrency: number;
  readonly ratio: number;
  readonly floor: RunCpu;
  readonly joins: RunCpu;
  readonly serverMicrosPerJoinForRatio: number;
}

export interface Machine {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryBytes: number;
  readonly node: string;
  readonly platform: string;
  readonly loadAverageAtStart: number;
}

export interface JoinRow {
  readonly macVersion: BenchMACVersion;
  readonly concurrency: number;
  readonly joinsPerSecond: number;
  readonly latencyMs: LatencySummary;
  /** The HTTP floor at the same concurrency, measured right before this run. */
  readonly httpFloorPerSecond: number;
  /** joinsPerSecond / httpFloorPerSecond. */
  readonly ratioToHttpFloor: number;
  readonly ratioToCryptoFloor: number;
  readonly failures: LoadReport['failures'];
  /** The server's CPU time (all its threads) per join: the whole run's, warm-up included, over every request it completed. */
  readonly serverCpuMicrosPerJoin: number;
  readonly loadGeneratorCpuMicrosPerJoin: number;
  /** Share of the machine's cores busy during the run, 0..1. */
  readonly machineBusy: number;
  /** The same for the HTTP floor run next to it, per request. */
  readonly httpFloorCpu: RunCpu;
  /** JoinReqs the load generator built before the run, and during it (0: it only sent bytes). */
  readonly trace: LoadReport['trace'];
}

export interface ScaleRow {
  readonly devices: number;
  readonly import: { readonly seconds: number; readonly devicesPerSecond: number };
  readonly databaseBytes: number;
  readonly serverRssBytes: number;
  readonly serverPeakRssBytes: number;
  readonly concurrency: number;
  /** The median of `runsPerSecond`; the latency and failures are that run's. */
  readonly joinsPerSecond: number;
  /** Each run, the two registries' runs alternated (the small registry's server warm from the join runs, the large one's warmed first). */
  readonly runsPerSecond: readonly number[];
  readonly latencyMs: LatencySummary;
  readonly failures: LoadReport['failures'];
}

/** A freshly started server's first seconds under load: how a restarted Join Server gets up to speed. */
export interface FreshServer {
  readonly devices: number;
  readonly concurrency: number;
  /** Joins (requests ended) in each whole second from the first request, of its first start. */
  readonly perSecond: readonly number[];
  /** Seconds from its process's first start to the line that says it listens. */
  readonly startSeconds: number;
  /** Its steady rate: the median of its measured runs after these seconds (the large scale point's). */
  readonly steadyPerSecond: number;
  /**
   * The first second of each new process whose load generator connects anew (full TLS
   * handshakes): its first start, then its restarts without a session.
   */
  readonly firstSeconds: readonly number[];
  /** median(firstSeconds) / steadyPerSecond. */
  readonly firstSecondRatio: number;
  /**
   * Its restarts (alternated with those without) whose load generator offers the TLS session it
   * kept from before, as a network server that resumes sessions does: each one's first second,
   * and how many of the connections resumed. Null when the runs gave no session.
   */
  readonly afterRestart: {
    readonly firstSeconds: readonly number[];
    readonly startSeconds: readonly number[];
    /** median(firstSeconds) / steadyPerSecond. */
    readonly firstSecondRatio: number;
    readonly connections: number;
    readonly resumed: number;
  } | null;
  /**
   * The control: new runs on the same server while it is still warm from its measured runs, its
   * load generator connecting anew (full TLS handshakes, as for the first start). Each run's
   * first second holds what any run's start costs (the handshakes, the generator's own start)
   * and none of a new process's: the ceiling of `firstSecondRatio` on this machine.
   */
  readonly warmServer: {
    readonly firstSeconds: readonly number[];
    /** median(firstSeconds) / steadyPerSecond. */
    readonly firstSecondRatio: number;
  };
}

export interface StormRow {
  readonly devices: number;
  /** Seconds its server (started fresh on the storm's registry) was run before the storm, joining some of the devices once. */
  readonly serverWarmupSeconds: number;
  readonly concurrency: number;
  readonly seconds: number;
  readonly joinsPerSecond: number;
  readonly joined: number;
  readonly withinOneMinute: boolean;
  readonly failures: LoadReport['failures'];
  readonly replays: LoadReport['replays'];
  readonly latencyMs: LatencySummary;
}

/** A row that is measured when its capability (and what it needs on the machine) is there. */
export type OptionalRow = { readonly status: 'measured'; readonly lines: readonly string[]; readonly values: Readonly<Record<string, number>> } | { readonly status: 'skipped' | 'not-available'; readonly reason: string };

export interface Target {
  readonly name: string;
  readonly measured: number;
  readonly threshold: number;
  /** How `measured` must compare with `threshold`. */
  readonly comparison: '>=' | '<' | '<=';
  readonly unit: string;
  readonly met: boolean;
  /** The numbers a ratio is made of (`1,715 / 3,911/s`), when it is one. */
  readonly madeOf?: string;
}

export function target(name: string, measured: number, comparison: Target['comparison'], threshold: number, unit: string, madeOf?: string): Target {
  const met = comparison === '>=' ? measured >= threshold : comparison === '<=' ? measured <= threshold : measured < threshold;
  return { name, measured: round(measured), threshold, comparison, unit, met, ...(madeOf !== undefined ? { madeOf } : {}) };
}

export function roundCpu(cpu: RunCpu): RunCpu {
  return { serverMicros: round(cpu.serverMicros, 0), loadGeneratorMicros: round(cpu.loadGeneratorMicros, 0), machineBusy: round(cpu.machineBusy, 2) };
}

/** The element of median `rate` (the lower middle one of an even number). */
export function medianBy<T>(xs: readonly T[], rate: (x: T) => number): T {
  return [...xs].sort((a, b) => rate(a) - rate(b))[Math.floor((xs.length - 1) / 2)]!;
}

export function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
