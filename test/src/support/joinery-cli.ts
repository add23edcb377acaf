import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** The built CLI (`npm test` builds before running jest). */
export const CLI = path.resolve(__dirname, '../../../core/dist/cli/main.js');

/** Everything any joinery process printed during this test file: the log-leak tests read it. */
export const transcript: string[] = [];

export interface CLIResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function makeTempDir(prefix: string): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), `joinery-${prefix}-`));
}

/**
 * Backend flags and environment every `joinery` process of this test file gets (e.g. the PKCS#11
 * vault on a SoftHSM2 token: `--vault pkcs11 --pkcs11-lib ... --pkcs11-token ...` and
 * `JOINERY_PKCS11_PIN`, `SOFTHSM2_CONF`). The flags go to the commands that take backend flags
 * (`serve`, `ns`, `as`, `devices`, `keys`); the environment to every process. A call's own `env`
 * still wins.
 */
let backend: { readonly args: readonly string[]; readonly env: NodeJS.ProcessEnv } = { args: [], env: {} };
const BACKEND_COMMANDS = new Set(['serve', 'ns', 'as', 'devices', 'keys', 'migrate']);

export function useBackend(options: { readonly args?: readonly string[]; readonly env?: NodeJS.ProcessEnv }): void {
  backend = { args: options.args ?? [], env: options.env ?? {} };
}

function withBackend(args: readonly string[]): string[] {
  const takesBackend = args[0] !== undefined && BACKEND_COMMANDS.has(args[0]) && !args.includes('--help');
  return takesBackend ? [...args, ...backend.args] : [...args];
}

/** Runs `joinery ARGS` to completion. */
export function runCLI(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CLIResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...withBackend(args)], { env: { ...process.env, ...backend.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      transcript.push(stdout, stderr);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

/** Runs a command that must succeed; its output otherwise explains the failure. */
export async function cli(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CLIResult> {
  const r = await runCLI(args, env);
  if (r.code !== 0) throw new Error(`joinery ${args.join(' ')} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r;
}

export interface ServerProcess {
  readonly biURL: string;
  readonly adminURL: string;
  readonly child: ChildProcess;
  /** All output so far. */
  output(): string;
  /**
   * All output once it matches `pattern` (the server writes its log lines a buffer at a time, at
   * least every 100 ms): a failing expectation after `ms`.
   */
  outputMatching(pattern: RegExp, ms?: number): Promise<string>;
  /** SIGTERM (or another signal), then wait for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `joinery serve` (this repository's, or the CLI at `cliPath`) on free ports and waits until it listens. */
export function startServer(dataDir: string, extraArgs: readonly string[] = [], env: NodeJS.ProcessEnv = {}, cliPath: string = CLI): Promise<ServerProcess> {
  const child = spawn(process.execPath, [cliPath, ...withBackend(['serve', '--data-dir', dataDir, '--bi-listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0', ...extraArgs])], {
    // No warm-up (warm-up.ts) unless a test asks for one: it would add up to 1.5 s to every start.
    env: { JOINERY_WARM_UP_MS: '0', ...process.env, ...backend.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  child.stdout!.on('data', (c: Buffer) => {
    out += c.toString();
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`joinery serve did not start:\n${out}`)), 30_000);
    child.stderr!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /Backend Interfaces on (https:\/\/[^\s]+\/) .*admin on (http:\/\/[^\s]+\/)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({
          biURL: m[1]!,
          adminURL: m[2]!,
          child,
          output: () => out,
          async outputMatching(pattern, ms = 5_000) {
            for (const deadline = Date.now() + ms; !pattern.test(out) && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 20));
            expect(out).toMatch(pattern);
            return out;
          },
          async stop(signal = 'SIGTERM') {
            if (child.exitCode === null) child.kill(signal);
            const code = await exited;
            transcript.push(out);
            return code;
          },
        });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`joinery serve exited ${code}:\n${out}`));
    });
  });
}
