import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { processCpuSeconds } from './cpu-meter';
import type { LoadPlan, LoadReport } from './load-plan';

/** The load generator's process (load-generator.ts), given one plan at a time. */
export class LoadGeneratorProcess {
  readonly #child: ChildProcess;

  constructor() {
    this.#child = fork(path.join(__dirname, 'load-generator.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  }

  run(plan: LoadPlan): Promise<LoadReport> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null): void => reject(new Error(`load generator exited ${code}`));
      this.#child.once('exit', onExit);
      this.#child.once('message', (m: { ok: true; report: LoadReport } | { ok: false; error: string }) => {
        this.#child.off('exit', onExit);
        if (m.ok) resolve(m.report);
        else reject(new Error(`load generator: ${m.error}`));
      });
      this.#child.send(plan);
    });
  }

  /** CPU time the load generator has used so far, all its threads, from /proc. */
  cpuSeconds(): number {
    return processCpuSeconds(this.#child.pid!);
  }

  close(): void {
    this.#child.kill();
  }
}
