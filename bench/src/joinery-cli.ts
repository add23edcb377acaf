import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { processCpuSeconds } from './cpu-meter';
import type { PostgresQueryCounts } from './pg-query-counter';

/** The `joinery` CLI of this checkout (built by `tsc -b`). */
export const CLI = path.resolve(__dirname, '../../core/dist/cli/main.js');

/** Runs a `joinery` command (of this checkout, or `cli`) to its end; rejects with its stderr when it fails. */
export function joinery(args: readonly string[], env: NodeJS.ProcessEnv = process.env, cli: string = CLI): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [cli, ...args], { env, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`joinery ${args.slice(0, 2).join(' ')} failed: ${stderr || err.message}`));
      else resolve(stdout);
    });
  });
}

export interface RunningServer {
  readonly url: string;
  readonly pid: number;
  /** Resident and peak resident memory of the server process, from /proc. */
  memory(): { rssBytes: number; peakRssBytes: number };
  /** CPU time the server process has used so far, all its threads, from /proc. */
  cpuSeconds(): number;
  /** Seconds from the process's spawn to the line that says it listens. */
  readonly startSeconds: number;
  /** The statements it has sent to PostgreSQL so far (started with `countPostgresQueries`). */
  postgresQueries(): Promise<PostgresQueryCounts>;
  stop(): Promise<void>;
}

export interface StartServerOptions {
  /** Preload pg-query-counter-preload.js: the server's statements to PostgreSQL counted at the driver. */
  readonly countPostgresQueries?: boolean;
  /** Another build's `joinery` CLI (an A/B comparison with the code before a change): default, this checkout's. */
  readonly cli?: string;
}

/**
 * `joinery serve` in a process of its own, on random ports, at the default log level (its
 * log lines written, to /dev/null): the server as an operator runs it. `nodeArgs` go to node
 * (`--cpu-prof`), `args` to serve.
 */
export function startServer(dataDir: string, args: readonly string[] = [], nodeArgs: readonly string[] = [], env: NodeJS.ProcessEnv = process.env, options: StartServerOptions = {}): Promise<RunningServer> {
  const spawnedAt = performance.now();
  const counter = options.countPostgresQueries ? ['--require', path.join(__dirname, 'pg-query-counter-preload.js')] : [];
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, ...counter, options.cli ?? CLI, 'serve', '--data-dir', dataDir, '--bi-listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0', ...args], {
    stdio: ['ignore', 'ignore', 'pipe', ...(options.countPostgresQueries ? (['ipc'] as const) : [])],
    env,
  });
  let err = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null): void => reject(new Error(`joinery serve exited ${code}: ${err}`));
    child.once('exit', onExit);
    child.stderr!.on('data', (c: Buffer) => {
      err += c.toString();
      const m = /Backend Interfaces on (https:\/\/\S+\/)/.exec(err);
      if (!m) return;
      child.off('exit', onExit);
      child.stderr!.removeAllListeners('data');
      child.stderr!.resume();
      resolve({
        url: m[1]!,
        pid: child.pid!,
        startSeconds: (performance.now() - spawnedAt) / 1000,
        postgresQueries: () =>
          new Promise((resolveCounts, rejectCounts) => {
            if (!child.send) return rejectCounts(new Error('the server was not started with countPostgresQueries'));
            child.once('message', (m) => resolveCounts(m as PostgresQueryCounts));
            child.send('counts');
          }),
        memory: () => processMemory(child.pid!),
        cpuSeconds: () => processCpuSeconds(child.pid!),
        stop: async () => {
          child.kill('SIGTERM');
          await exited;
        },
      });
    });
  });
}

export function processMemory(pid: number): { rssBytes: number; peakRssBytes: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rssBytes: kb('VmRSS'), peakRssBytes: kb('VmHWM') };
}
