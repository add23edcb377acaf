import { readFileSync } from 'node:fs';

/**
 * Where a profile's CPU went: a V8 `.cpuprofile` (node --cpu-prof) summed by function and by
 * module, self and total (a function's own samples, and every sample with it on the stack),
 * over a window of the profile (the timed run, without the start-up and the warm-up).
 *
 * `node bench/dist/profile-summary.js FILE.cpuprofile [JOINS]`: with JOINS (requests in the
 * profile's whole span), times are µs per join besides shares of the samples.
 */

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}

export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface ProfileLine {
  readonly name: string;
  /** µs of samples where it is the leaf, and where it is anywhere on the stack. */
  readonly selfMicros: number;
  readonly totalMicros: number;
}

export interface ProfileSummary {
  /** µs sampled in the window, and of it idle (the event loop waiting). */
  readonly sampledMicros: number;
  readonly idleMicros: number;
  readonly functions: readonly ProfileLine[];
  readonly modules: readonly ProfileLine[];
  /** Self time by area (see AREAS); natives named by their function (`writev`) where it tells the area. */
  readonly areas: readonly ProfileLine[];
}

/** A module: a package of node_modules, node's own `node:` modules, or a file of this repository (from its `dist/`). */
export function moduleOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return url;
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const dist = /\/([^/]+)\/dist\/(.+)\.js$/.exec(url);
  return dist ? `${dist[1]}/${dist[2]}` : url.replace(/^file:\/\//, '');
}

/**
 * What a join's work is, by module: the areas bench/README.md's breakdown is in. The first
 * pattern that matches the module names its area.
 */
const AREAS: readonly (readonly [string, RegExp])[] = [
  ['socket writes (TLS encrypt + send)', /^(writev|writeBuffer|node:internal\/stream_base_commons|node:net|node:_tls_wrap|node:tls)$/],
  ['node HTTP (parse, response, streams, events)', /^node:(_http_|internal\/streams\/|events|internal\/http|internal\/async_hooks|async_hooks)/],
  ['fastify (routing, hooks, Reply, parser)', /^(fastify|find-my-way|avvio|@fastify\/|fast-json-stringify|light-my-request|toad-cache|content-type|secure-json-parse)/],
  ['BI listener and handler (transport, parse, answer)', /^core\/backend-interfaces\//],
  ['join engine', /^core\/join\//],
  ['crypto (AES, CMAC, vault)', /^(node:internal\/crypto|node:crypto|core\/lorawan\/(cmac|aes128-key|key-derivation|join-accept)|core\/keys\/)/],
  ['LoRaWAN frames, hex, identifiers', /^core\/lorawan\//],
  ['store: SQLite reads, group commit, commit thread messages', /^(core\/store\/|better-sqlite3|node:internal\/worker|postMessage)/],
  ['log line (pino, scrub)', /^(pino|sonic-boom|core\/log\/|fast-redact|quick-format-unescaped|atomic-sleep)/],
  ['metrics (prom-client, store/vault timing)', /^(prom-client|core\/metrics\/|tdigest|bintrees)/],
  ['join events and history', /^core\/events\//],
  ['garbage collector', /^\(garbage collector\)$/],
  ['V8 and native (compiler, runtime, (program))', /^\((program|native)\)$/],
  ['buffers and strings', /^node:(buffer|internal\/buffer|string_decoder)/],
];

/** The area a module or native function belongs to (see AREAS); `other` when none. */
export function areaOf(module: string): string {
  return AREAS.find(([, re]) => re.test(module))?.[0] ?? 'other';
}

/** Self and total time by function and by module, for samples taken between `fromMicros` and `toMicros` (from the profile's start). */
export function summarize(p: CpuProfile, fromMicros = 0, toMicros = Infinity): ProfileSummary {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const fnKey = (n: ProfileNode): string => {
    const f = n.callFrame;
    const file = f.url === '' ? '' : ` ${moduleOf(f.url, f.functionName)}:${f.lineNumber + 1}`;
    return `${f.functionName || '(anonymous)'}${file}`;
  };
  const fSelf = new Map<string, number>();
  const fTotal = new Map<string, number>();
  const mSelf = new Map<string, number>();
  const mTotal = new Map<string, number>();
  const areas = new Map<string, number>();
  const add = (m: Map<string, number>, k: string, us: number): void => void m.set(k, (m.get(k) ?? 0) + us);
  let sampled = 0;
  let idle = 0;
  let t = 0;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i]!;
    if (t < fromMicros || t > toMicros) continue;
    // A sample stands for the time until the next one.
    const us = p.timeDeltas[i + 1] ?? 0;
    const leaf = byId.get(p.samples[i]!)!;
    sampled += us;
    if (leaf.callFrame.functionName === '(idle)') {
      idle += us;
      continue;
    }
    add(fSelf, fnKey(leaf), us);
    const leafModule = moduleOf(leaf.callFrame.url, leaf.callFrame.functionName);
    add(mSelf, leafModule, us);
    add(areas, areaOf(leafModule === '(native)' && AREAS.some(([, re]) => re.test(leaf.callFrame.functionName)) ? leaf.callFrame.functionName : leafModule), us);
    const seenF = new Set<string>();
    const seenM = new Set<string>();
    for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) {
      const n = byId.get(id)!;
      if (n.callFrame.functionName === '(root)') break;
      const k = fnKey(n);
      if (!seenF.has(k)) {
        seenF.add(k);
        add(fTotal, k, us);
      }
      const m = moduleOf(n.callFrame.url, n.callFrame.functionName);
      if (!seenM.has(m)) {
        seenM.add(m);
        add(mTotal, m, us);
      }
    }
  }
  const lines = (self: Map<string, number>, total: Map<string, number>): ProfileLine[] =>
    [...total.keys()].map((name) => ({ name, selfMicros: self.get(name) ?? 0, totalMicros: total.get(name)! })).sort((a, b) => b.selfMicros - a.selfMicros);
  return { sampledMicros: sampled, idleMicros: idle, functions: lines(fSelf, fTotal), modules: lines(mSelf, mTotal), areas: lines(areas, areas) };
}

/** The summary as text: the top `top` functions by self time, by total time, and the modules. */
export function formatSummary(s: ProfileSummary, joins: number | undefined, top = 40): string {
  const busy = s.sampledMicros - s.idleMicros;
  const cell = (us: number): string => (joins ? `${(us / joins).toFixed(1).padStart(7)} µs` : '') + ` ${((100 * us) / busy).toFixed(1).padStart(5)}%`;
  const out = [`sampled ${(s.sampledMicros / 1e6).toFixed(2)} s, busy ${(busy / 1e6).toFixed(2)} s${joins ? ` (${(busy / joins).toFixed(1)} µs a join over ${joins} joins)` : ''}; shares are of the busy time`];
  const list = (title: string, xs: readonly ProfileLine[]): void => {
    out.push('', `${title}: self | total`);
    for (const x of xs.slice(0, top)) out.push(`${cell(x.selfMicros)} | ${cell(x.totalMicros)}  ${x.name}`);
  };
  list('by area (self)', s.areas);
  list('by module', s.modules);
  list('by function, self', s.functions);
  list(
    'by function, total',
    [...s.functions].sort((a, b) => b.totalMicros - a.totalMicros),
  );
  return out.join('\n');
}

if (require.main === module) {
  const [file, joins] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: node profile-summary.js FILE.cpuprofile [JOINS] [FROM_S] [TO_S]\n');
    process.exit(2);
  }
  const [from, to] = process.argv.slice(4).map(Number);
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  console.log(formatSummary(summarize(p, (from ?? 0) * 1e6, to === undefined ? Infinity : to * 1e6), joins ? Number(joins) : undefined));
}
