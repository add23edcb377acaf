import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { processCpuSeconds } from './cpu-meter';
import type { LoadGeneratorMessage } from './load-generator';
import type { LoadPlan, LoadReport } from './load-plan';

/** A plan whose requests the load generator has built: `run` sends them (what a run's CPU is measured around). */
export interface PreparedLoad {
  readonly traceSize: number;
  readonly buildSeconds: number;
  run(): Promise<LoadReport>;
}

type Reply = { ok: true; report: LoadReport } | { ok: true; prepared: { traceSize: number; buildSeconds: number } } | { ok: false; error: string };

/** The load generator's process (load-generator.ts), given one plan at a time. */
export class LoadGeneratorProcess {
  readonly #child: ChildProcess;

  constructor() {
    this.#child = fork(path.join(__dirname, 'load-generator.js'), [], { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  }

  #ask(message: LoadGeneratorMessage): Promise<Reply & { ok: true }> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null): void => reject(new Error(`load generator exited ${code}`));
      this.#child.once('exit', onExit);
      this.#child.once('message', (m: Reply) => {
        this.#child.off('exit', onExit);
        if (m.ok) resolve(m);
        else reject(new Error(`load generator: ${m.error}`));
      });
      this.#child.send(message);
    });
  }

  /** Builds the plan's requests (before any measurement starts). */
  async prepare(plan: LoadPlan): Promise<PreparedLoad> {
    const m = await this.#ask({ kind: 'prepare', plan });
    if (!('prepared' in m)) throw new Error('load generator: expected a prepared plan');
    return {
      ...m.prepared,
      run: async () => {
        const r = await this.#ask({ kind: 'run' });
        if (!('report' in r)) throw new Error('load generator: expected a report');
        return r.report;
      },
    };
  }

  /** Prepares the plan, then runs it. */
  async run(plan: LoadPlan): Promise<LoadReport> {
    return (await this.prepare(plan)).run();
  }

  /** CPU time the load generator has used so far, all its threads, from /proc. */
  cpuSeconds(): number {
    return processCpuSeconds(this.#child.pid!);
  }

  close(): void {
    this.#child.kill();
  }
}
