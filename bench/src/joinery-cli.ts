import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { processCpuSeconds } from './cpu-meter';

/** The `joinery` CLI of this checkout (built by `tsc -b`). */
export const CLI = path.resolve(__dirname, '../../core/dist/cli/main.js');

/** Runs a `joinery` command to its end; rejects with its stderr when it fails. */
export function joinery(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [CLI, ...args], { env, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
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
  stop(): Promise<void>;
}

/**
 * `joinery serve` in a process of its own, on random ports, at the default log level (its
 * log lines written, to /dev/null): the server as an operator runs it. `nodeArgs` go to node
 * (`--cpu-prof`), `args` to serve.
 */
export function startServer(dataDir: string, args: readonly string[] = [], nodeArgs: readonly string[] = [], env: NodeJS.ProcessEnv = process.env): Promise<RunningServer> {
  const child: ChildProcess = spawn(
    process.execPath,
    [...nodeArgs, CLI, 'serve', '--data-dir', dataDir, '--bi-listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0', ...args],
    { stdio: ['ignore', 'ignore', 'pipe'], env },
  );
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

