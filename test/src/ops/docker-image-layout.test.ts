import { execFile, spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { makeTempDir, startServer, type CLIResult } from '../support/joinery-cli';

/**
 * The Docker image's layout, without a Docker daemon: the build stage is laid out from what the
 * Dockerfile copies into it (.dockerignore applied), its RUN steps done as follows, and the
 * runtime stage gets exactly what its `COPY --from=build` lines copy. Then the image's CLI runs
 * there: `ns add` with every adapter, `devices import`, `serve` (with the console) and a
 * simulated join.
 *
 * RUN steps: `npm ci` is the repository's installed node_modules (the lock file's install, hard
 * linked), `npm rebuild` of the native modules is what that install already built, `tsc -b
 * PROJECTS` and the console's build take the repository's built `dist/` of exactly those
 * projects (and the projects they reference), and `npm prune` runs for real (offline: it only
 * removes). A step the test does not know fails it, so a changed Dockerfile is looked at here.
 */
const ROOT = path.resolve(__dirname, '../../..');
const run = promisify(execFile);

interface Instruction {
  readonly op: string;
  readonly args: string;
}

function instructions(dockerfile: string): Instruction[][] {
  const lines = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const stages: Instruction[][] = [];
  for (const line of lines) {
    const m = /^(\w+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const op = m[1]!.toUpperCase();
    if (op === 'FROM') stages.push([]);
    stages[stages.length - 1]?.push({ op, args: m[2]! });
  }
  return stages;
}

/** .dockerignore's patterns as a test of a path relative to the context. */
function dockerIgnore(text: string): (rel: string) => boolean {
  const patterns = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  return (rel) => {
    const parts = rel.split(path.sep);
    return patterns.some((p) => {
      if (p.startsWith('**/*.')) return parts[parts.length - 1]!.endsWith(p.slice(4));
      if (p.startsWith('**/')) return parts.includes(p.slice(3));
      return parts[0] === p;
    });
  };
}

/** Copies a file or tree as `docker COPY` would from the context (ignored paths left out). */
async function copyFromContext(rel: string, dest: string, ignored: (rel: string) => boolean): Promise<void> {
  if (ignored(rel)) return;
  const from = path.join(ROOT, rel);
  const stat = await fs.stat(from);
  if (!stat.isDirectory()) {
    await fs.mkdir(path.dirname(dest), { recursive: true });
    await fs.copyFile(from, dest);
    return;
  }
  await fs.mkdir(dest, { recursive: true });
  for (const entry of await fs.readdir(from)) await copyFromContext(path.join(rel, entry), path.join(dest, entry), ignored);
}

/** A tree copied with its symbolic links as they are (relative ones then point inside the copy), files hard-linked. */
async function copyTree(from: string, to: string): Promise<void> {
  await fs.mkdir(path.dirname(to), { recursive: true });
  await run('cp', ['-al', from, to]);
}

/** A project and those it references (tsc -b builds them all). */
async function withReferences(project: string, seen = new Set<string>()): Promise<Set<string>> {
  if (seen.has(project)) return seen;
  seen.add(project);
  const tsconfig = await fs.readFile(path.join(ROOT, project, 'tsconfig.json'), 'utf8');
  for (const m of tsconfig.matchAll(/"path"\s*:\s*"([^"]+)"/g)) await withReferences(path.normalize(path.join(project, m[1]!)), seen);
  return seen;
}

async function expandProjects(args: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const a of args) {
    if (!a.endsWith('/*')) {
      out.push(a);
      continue;
    }
    const dir = a.slice(0, -2);
    for (const e of await fs.readdir(path.join(ROOT, dir), { withFileTypes: true })) if (e.isDirectory()) out.push(path.join(dir, e.name));
  }
  return out;
}

async function buildStage(stage: readonly Instruction[], src: string, ignored: (rel: string) => boolean): Promise<void> {
  for (const { op, args } of stage) {
    if (op === 'COPY') {
      if (args.startsWith('--')) throw new Error(`build stage COPY with options: ${args}`);
      const words = args.split(/\s+/);
      const dest = words.pop()!;
      for (const w of words) {
        // A directory's contents go into the destination; a file into it when it ends with /.
        const rel = w.replace(/\/$/, '');
        const isDir = (await fs.stat(path.join(ROOT, rel))).isDirectory();
        await copyFromContext(rel, !isDir && dest.endsWith('/') ? path.join(src, dest, path.basename(rel)) : path.join(src, dest), ignored);
      }
    } else if (op === 'RUN') {
      for (const command of args.split('&&').map((c) => c.trim())) {
        const words = command.split(/\s+/);
        if (/^(apt-get|rm -rf \/var\/lib\/apt)/.test(command)) continue; // the system's packages
        if (command.startsWith('npm ci')) await copyTree(path.join(ROOT, 'node_modules'), path.join(src, 'node_modules'));
        else if (command.startsWith('npm rebuild')) continue;
        else if (command.startsWith('npx tsc -b')) {
          const projects = new Set<string>();
          for (const p of await expandProjects(words.slice(3))) for (const r of await withReferences(p)) projects.add(r);
          for (const p of projects) await copyTree(path.join(ROOT, p, 'dist'), path.join(src, p, 'dist'));
        } else if (command === 'npm run build -w @joinery/console') await copyTree(path.join(ROOT, 'console/dist'), path.join(src, 'console/dist'));
        else if (command.startsWith('npm prune')) {
          // node_modules/.package-lock.json is rewritten by npm: a copy of its own, not a link.
          const lock = path.join(src, 'node_modules/.package-lock.json');
          await fs.rm(lock, { force: true });
          await fs.copyFile(path.join(ROOT, 'node_modules/.package-lock.json'), lock);
          await run('npm', [...words.slice(1), '--offline'], { cwd: src });
        } else throw new Error(`the image layout test does not know the build step: ${command}`);
      }
    }
  }
}

async function runtimeStage(stage: readonly Instruction[], src: string, app: string): Promise<void> {
  for (const { op, args } of stage) {
    if (op !== 'COPY') continue;
    const m = /^--from=build\s+\/src\/(\S+)\s+\.\/(\S+)$/.exec(args);
    if (!m) throw new Error(`runtime stage COPY the test does not know: ${args}`);
    await copyTree(path.join(src, m[1]!), path.join(app, m[2]!));
  }
}

function runIn(cli: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<CLIResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

test('ops/docker-image-layout/the runtime stage has every adapter and the console: ns add with each adapter, serve and a join run there', async () => {
  const stages = instructions(await fs.readFile(path.join(ROOT, 'Dockerfile'), 'utf8'));
  expect(stages).toHaveLength(2);
  const work = await makeTempDir('image');
  const src = path.join(work, 'src');
  const app = path.join(work, 'app');
  try {
    await buildStage(stages[0]!, src, dockerIgnore(await fs.readFile(path.join(ROOT, '.dockerignore'), 'utf8')));
    await runtimeStage(stages[1]!, src, app);
    const entrypoint = stages[1]!.find((i) => i.op === 'ENTRYPOINT')!.args;
    const cli = path.join(app, (JSON.parse(entrypoint) as string[])[1]!.replace(/^\/app\//, ''));
    // A production install: no development tools in the image.
    await expect(fs.access(path.join(app, 'node_modules/typescript'))).rejects.toThrow();
    await expect(fs.access(path.join(app, 'node_modules/jest'))).rejects.toThrow();

    const env = { NODE_ENV: 'production', JOINERY_DATA_DIR: path.join(work, 'data'), JOINERY_LOG_FORMAT: 'json' };
    const vendors = (await fs.readdir(path.join(ROOT, 'adapters'), { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
    expect(vendors.length).toBeGreaterThanOrEqual(5);
    for (const vendor of vendors) {
      const out = path.join(work, `bundle-${vendor}`);
      const r = await runIn(cli, ['ns', 'add', '--name', vendor, '--net-id', '000013', '--vendor', vendor, '--out', out], env);
      expect({ vendor, code: r.code, stderr: r.stderr }).toEqual({ vendor, code: 0, stderr: expect.any(String) });
      // The vendor's setup files are rendered by its adapter: there only when the adapter loads.
      expect({ vendor, files: await fs.readdir(out) }).toEqual({ vendor, files: expect.arrayContaining(['SETUP.txt']) });
    }
    const csv = path.join(work, 'devices.csv');
    await fs.writeFile(csv, 'dev_eui,join_eui,mac_version,app_key,nwk_key\n0004a30b001c0530,70b3d57ed0000000,1.0.3,2b7e151628aed2a6abf7158809cf4f3c,\n');
    expect((await runIn(cli, ['devices', 'import', csv, '--ns', 'chirpstack'], env)).code).toBe(0);
    const server = await startServer(env.JOINERY_DATA_DIR, [], env, cli);
    try {
      const page = await fetch(server.adminURL);
      expect(page.status).toBe(200);
      expect(await page.text()).toMatch(/<html/i);
      const port = new URL(server.biURL).port;
      const join = await runIn(
        cli,
        [
          'simulate',
          'join',
          '--bundle',
          path.join(work, 'bundle-chirpstack'),
          '--dev-eui',
          '0004a30b001c0530',
          '--join-eui',
          '70b3d57ed0000000',
          '--mac-version',
          '1.0.3',
          '--app-key',
          '2b7e151628aed2a6abf7158809cf4f3c',
          '--url',
          `https://localhost:${port}/bi/chirpstack`,
        ],
        env,
      );
      expect({ code: join.code, out: join.stdout + join.stderr }).toEqual({ code: 0, out: expect.stringContaining('join verified') });
    } finally {
      await server.stop();
    }
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}, 180_000);
