import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';

/**
 * What The Things Stack's Device Claiming Server does with its configuration, written from its
 * source:
 * - `dcs.edcs` (TTS pkg/deviceclaimingserver/config.go, enddevices/config.go): `net-id`,
 *   `ns-id`, `as-id` (sent with every claim), `source` (`directory`, `url` or `blob`; anything
 *   else: no claimer at all) and `directory`;
 * - the directory's `config.yml` is read with `yaml.UnmarshalStrict` into `join-servers`
 *   entries of exactly `file`, `join-euis` (`<16 hex>/<N>`, TTS pkg/types/eui.go) and `type`;
 *   an entry whose type is not `ttjsv2` is skipped with a warning (enddevices.go, NewUpstream);
 * - the entry's file, fetched relative to the directory, is read strictly into `url`, `tls`
 *   (`root-ca`, `source`, `certificate`, `key`) and `basic-auth` (`username`, `password`)
 *   (enddevices/ttjsv2/ttjs.go ConfigFile, tls.go);
 * - a non-empty `tls` needs `source` `file` (with `certificate` and `key`) or `key-vault`
 *   (TTS pkg/config/tlsconfig/config.go, ClientAuth.ApplyTo); its files are fetched relative to
 *   the entry file's directory, or under the directory's root when absolute (TTS pkg/fetch/basepath.go,
 *   fetch.go realOSPath);
 * - requests go to `<url>/api/v2/devices/...` (ttjs.go): a trailing slash doubles it;
 * - claimers are keyed by the entry file's name trimmed of the characters of its extension
 *   (`strings.Trim`, enddevices.go): two entries with one key leave one claimer.
 */
export interface DCSFiles {
  /** `dcs.edcs` of the stack's configuration (YAML holding `dcs: {edcs: ...}`). */
  readonly stackYml: string;
  /** The directory's config.yml. */
  readonly configYml: string;
  /** The entry files, by the path config.yml names them with. */
  readonly joinServerYmls: Readonly<Record<string, string>>;
  /** Paths that exist in the directory, relative to its root (the TLS files). */
  readonly directoryFiles: readonly string[];
}

export interface DCSEdcs {
  readonly netID: string;
  readonly nsID: string | null;
  readonly asID: string;
  readonly source: string;
  readonly directory: string;
}

export interface DCSJoinServer {
  readonly clientName: string;
  readonly joinEUIs: readonly string[];
  readonly url: string;
  /** Paths relative to the directory's root. */
  readonly tls: { readonly rootCA: string | null; readonly certificate: string; readonly key: string } | null;
}

const PREFIX = /^[0-9a-fA-F]{16}\/(\d{1,2})$/;

type YAMLMap = Record<string, unknown>;

export function dcsConfigProblems(files: DCSFiles): string[] {
  return readDCS(files).problems;
}

/** The Device Claiming Server's view of its configuration: its claimers, and what it refuses. */
export function readDCS(files: DCSFiles): { edcs: DCSEdcs | null; joinServers: DCSJoinServer[]; problems: string[] } {
  const problems: string[] = [];
  const load = (name: string, text: string): YAMLMap | null => {
    try {
      const v = parse(text) as unknown;
      if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as YAMLMap;
      problems.push(`${name}: not a YAML mapping`);
    } catch (err) {
      problems.push(`${name}: not YAML: ${(err as Error).message}`);
    }
    return null;
  };
  const strict = (where: string, o: YAMLMap, keys: readonly string[]): void => {
    for (const k of Object.keys(o)) if (!keys.includes(k)) problems.push(`${where}: unknown key ${k} (UnmarshalStrict refuses the file)`);
  };
  const str = (where: string, v: unknown): string | null => {
    if (v === undefined || v === null) return '';
    if (typeof v === 'string') return v;
    problems.push(`${where} must be a string`);
    return null;
  };

  let edcs: DCSEdcs | null = null;
  const stack = load('stack configuration', files.stackYml);
  const e = ((stack?.['dcs'] as YAMLMap | undefined)?.['edcs'] ?? null) as YAMLMap | null;
  if (!e) problems.push('stack configuration: no dcs.edcs');
  else {
    const netID = str('dcs.edcs.net-id', e['net-id']) ?? '';
    if (!/^[0-9a-fA-F]{6}$/.test(netID)) problems.push('dcs.edcs.net-id must be 6 hex digits');
    else if (/^0{6}$/.test(netID)) problems.push('dcs.edcs.net-id is 000000 (the default): claims name no network server');
    const nsID = e['ns-id'] === undefined ? null : str('dcs.edcs.ns-id', e['ns-id']);
    if (nsID !== null && !/^[0-9a-fA-F]{16}$/.test(nsID)) problems.push('dcs.edcs.ns-id must be 16 hex digits');
    const source = str('dcs.edcs.source', e['source']) ?? '';
    if (!['directory', 'url', 'blob'].includes(source)) problems.push(`dcs.edcs.source ${JSON.stringify(source)}: no claimer is configured (directory, url or blob)`);
    const directory = str('dcs.edcs.directory', e['directory']) ?? '';
    if (source === 'directory' && directory === '') problems.push('dcs.edcs.directory is empty');
    edcs = { netID: netID.toUpperCase(), nsID: nsID ? nsID.toUpperCase() : null, asID: str('dcs.edcs.as-id', e['as-id']) ?? '', source, directory };
  }

  const joinServers: DCSJoinServer[] = [];
  const config = load('config.yml', files.configYml);
  if (config) {
    strict('config.yml', config, ['join-servers']);
    const entries = config['join-servers'];
    if (!Array.isArray(entries) || entries.length === 0) problems.push('config.yml: no join-servers entry');
    const names = new Set<string>();
    for (const [i, raw] of (Array.isArray(entries) ? entries : []).entries()) {
      const where = `config.yml join-servers #${i + 1}`;
      if (typeof raw !== 'object' || raw === null) {
        problems.push(`${where}: not a mapping`);
        continue;
      }
      const entry = raw as YAMLMap;
      strict(where, entry, ['file', 'join-euis', 'type']);
      const euis = entry['join-euis'];
      const joinEUIs: string[] = [];
      for (const p of Array.isArray(euis) ? euis : []) {
        const m = typeof p === 'string' ? PREFIX.exec(p) : null;
        if (!m || Number(m[1]) > 64) problems.push(`${where}: join-euis entry ${JSON.stringify(p)} is not <16 hex>/<N>`);
        else joinEUIs.push(p as string);
      }
      if (euis !== undefined && !Array.isArray(euis)) problems.push(`${where}: join-euis must be a list`);
      if (joinEUIs.length === 0) problems.push(`${where}: no join-euis (no JoinEUI is claimed through it)`);
      if (entry['type'] !== 'ttjsv2') {
        problems.push(`${where}: type ${JSON.stringify(entry['type'])} is not ttjsv2 (the entry is skipped)`);
        continue;
      }
      const file = str(`${where}: file`, entry['file']);
      if (!file) {
        if (file === '') problems.push(`${where}: no file`);
        continue;
      }
      const text = files.joinServerYmls[file];
      if (text === undefined) {
        problems.push(`${where}: ${file} is not in the directory`);
        continue;
      }
      const parts = file.split('/');
      const base = parts[parts.length - 1]!;
      const clientName = trimCutset(base, path.extname(base));
      if (names.has(clientName)) problems.push(`${where}: another entry's file also makes claimer ${clientName}: one of them is lost`);
      names.add(clientName);
      const fileDir = parts.slice(0, -1).join('/');
      const js = load(file, text);
      if (!js) continue;
      strict(file, js, ['url', 'tls', 'basic-auth']);
      const url = str(`${file}: url`, js['url']) ?? '';
      let parsedURL: URL | null = null;
      try {
        parsedURL = new URL(url);
      } catch {
        problems.push(`${file}: url ${JSON.stringify(url)} is not a URL`);
      }
      if (parsedURL && url.endsWith('/')) problems.push(`${file}: url ends with "/": requests go to ${url}/api/v2/...`);
      if (js['basic-auth'] !== undefined) strict(`${file} basic-auth`, js['basic-auth'] as YAMLMap, ['username', 'password']);
      let tls: DCSJoinServer['tls'] = null;
      const t = js['tls'] as YAMLMap | undefined;
      if (t !== undefined) {
        if (typeof t !== 'object' || t === null) problems.push(`${file}: tls must be a mapping`);
        else {
          strict(`${file} tls`, t, ['root-ca', 'source', 'certificate', 'key']);
          const source = str(`${file} tls.source`, t['source']) ?? '';
          const located = (k: string): string | null => {
            const v = str(`${file} tls.${k}`, t[k]);
            if (!v) return null;
            const at = v.startsWith('/') ? v.slice(1) : path.posix.join(fileDir, v);
            if (!files.directoryFiles.includes(at)) problems.push(`${file} tls.${k}: ${v} is not in the directory (looked for ${at})`);
            return at;
          };
          const rootCA = located('root-ca');
          if (Object.keys(t).length > 0 && source === '') problems.push(`${file} tls: empty source (TLS source is empty)`);
          else if (source !== '' && source !== 'file' && source !== 'key-vault') problems.push(`${file} tls: source ${source} is not file or key-vault`);
          if (source === 'file') {
            const certificate = located('certificate');
            const key = located('key');
            if (!certificate || !key) problems.push(`${file} tls: source file needs certificate and key`);
            else tls = { rootCA, certificate, key };
          }
        }
      }
      if (parsedURL) joinServers.push({ clientName, joinEUIs, url, tls });
    }
  }
  return { edcs, joinServers, problems };
}

/** Go's strings.Trim(s, cutset): every leading and trailing character found in cutset removed. */
function trimCutset(s: string, cutset: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && cutset.includes(s[start]!)) start++;
  while (end > start && cutset.includes(s[end - 1]!)) end--;
  return s.slice(start, end);
}

/** Reads a Device Claiming Server directory as TTS finds it: config.yml, the entry files it names, and every file's path. */
export async function readDCSDirectory(stackYml: string, directory: string): Promise<ReturnType<typeof readDCS>> {
  const directoryFiles: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const d of await fs.readdir(path.join(directory, rel), { withFileTypes: true })) {
      const r = rel === '' ? d.name : `${rel}/${d.name}`;
      if (d.isDirectory()) await walk(r);
      else directoryFiles.push(r);
    }
  };
  await walk('');
  const configYml = await fs.readFile(path.join(directory, 'config.yml'), 'utf8');
  const joinServerYmls: Record<string, string> = {};
  const named = (parse(configYml) as { 'join-servers'?: Array<{ file?: unknown }> } | null)?.['join-servers'] ?? [];
  for (const e of Array.isArray(named) ? named : []) {
    if (typeof e?.file !== 'string') continue;
    const at = path.posix.normalize(e.file);
    if (directoryFiles.includes(at)) joinServerYmls[e.file] = await fs.readFile(path.join(directory, at), 'utf8');
  }
  return readDCS({ stackYml, configYml, joinServerYmls, directoryFiles });
}
