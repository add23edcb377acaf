import { parse } from 'yaml';

/**
 * What The Things Stack's interop loader does with the files it reads, written from its source
 * (`pkg/interop/client.go`: `NewClient` reads config.yml and each per-JS file with
 * `yaml.UnmarshalStrict`, so an unknown key stops the Network Server from starting;
 * `pkg/types/eui.go`: `EUI64Prefix.UnmarshalText` takes exactly `<16 hex>/<N>`;
 * `pkg/interop/types.go`: protocol `BI1.0` or `BI1.1`, and BI1.1 requires an NSID while a
 * `sender-ns-id` with BI1.0 fails every join; TLS files are fetched relative to the per-JS
 * file's directory; `pkg/config`: key-vault.static keys go through a loader that lower-cases
 * them and splits them on ".").
 */
export interface TTSConfigFiles {
  readonly configYml: string;
  readonly jsYml: string;
  readonly keyVaultYml: string;
}

export function ttsConfigProblems(files: TTSConfigFiles, bundleFiles: readonly string[]): string[] {
  const problems: string[] = [];
  const load = (name: string, text: string): Record<string, unknown> | null => {
    try {
      const v = parse(text) as unknown;
      if (typeof v === 'object' && v !== null) return v as Record<string, unknown>;
      problems.push(`${name}: not a YAML mapping`);
    } catch (err) {
      problems.push(`${name}: not YAML: ${(err as Error).message}`);
    }
    return null;
  };
  const strict = (where: string, o: Record<string, unknown>, keys: readonly string[]): void => {
    for (const k of Object.keys(o)) if (!keys.includes(k)) problems.push(`${where}: unknown key ${k} (UnmarshalStrict refuses the file)`);
  };

  const config = load('config.yml', files.configYml);
  let jsFile: string | undefined;
  if (config) {
    strict('config.yml', config, ['join-servers']);
    const entries = config['join-servers'];
    if (!Array.isArray(entries) || entries.length === 0) problems.push('config.yml: no join-servers entry');
    for (const [i, e] of (Array.isArray(entries) ? entries : []).entries()) {
      const where = `config.yml join-servers #${i + 1}`;
      strict(where, e as Record<string, unknown>, ['file', 'components', 'join-euis']);
      const entry = e as Record<string, unknown>;
      if (typeof entry['file'] !== 'string') problems.push(`${where}: file must be a string`);
      else jsFile = entry['file'];
      const components = entry['components'];
      if (components !== undefined && (!Array.isArray(components) || components.some((c) => c !== 'ns' && c !== 'as'))) problems.push(`${where}: components must be a list of ns, as`);
      const euis = entry['join-euis'];
      if (!Array.isArray(euis) || euis.length === 0) problems.push(`${where}: no join-euis`);
      for (const p of Array.isArray(euis) ? euis : []) {
        if (typeof p !== 'string' || !/^[0-9a-fA-F]{16}\/\d{1,2}$/.test(p) || Number(p.slice(17)) > 64) problems.push(`${where}: join-euis entry ${JSON.stringify(p)} is not <16 hex>/<N>`);
      }
    }
  }

  const js = load('js.yml', files.jsYml);
  if (js) {
    strict('js.yml', js, ['dns', 'scheme', 'fqdn', 'port', 'headers', 'basic-auth', 'tls', 'paths', 'protocol', 'sender-ns-id']);
    if (typeof js['fqdn'] !== 'string' || js['fqdn'] === '') problems.push('js.yml: fqdn is required (DNS lookup is not supported)');
    if (js['dns'] !== undefined) problems.push('js.yml: dns is not supported');
    if (js['port'] !== undefined && (!Number.isInteger(js['port']) || (js['port'] as number) < 1 || (js['port'] as number) > 65535)) problems.push('js.yml: port must be an integer port');
    if (js['protocol'] !== 'BI1.0' && js['protocol'] !== 'BI1.1') problems.push(`js.yml: protocol ${String(js['protocol'])} is not BI1.0 or BI1.1`);
    const nsID = js['sender-ns-id'];
    if (nsID !== undefined && (typeof nsID !== 'string' || !/^[0-9a-fA-F]{16}$/.test(nsID))) problems.push('js.yml: sender-ns-id must be 16 hex digits');
    if (js['protocol'] === 'BI1.1' && nsID === undefined) problems.push('js.yml: BI1.1 without sender-ns-id (every join fails: missing NSID)');
    if (js['protocol'] === 'BI1.0' && nsID !== undefined) problems.push('js.yml: sender-ns-id with BI1.0 (every join fails: NSID not supported)');
    const headers = js['headers'];
    if (headers !== undefined && (typeof headers !== 'object' || headers === null || Object.values(headers).some((v) => typeof v !== 'string'))) problems.push('js.yml: headers must map names to strings');
    if (js['paths'] !== undefined) strict('js.yml paths', js['paths'] as Record<string, unknown>, ['join', 'rejoin', 'app-s-key', 'home-ns']);
    const tls = js['tls'] as Record<string, unknown> | undefined;
    if (!tls) problems.push('js.yml: no tls (no client certificate: the Join Server identifies the network server by it)');
    else {
      strict('js.yml tls', tls, ['root-ca', 'source', 'certificate', 'key']);
      if (tls['source'] !== 'file') problems.push('js.yml tls: source must be file');
      // Fetched relative to the per-JS file's directory: they must be bundle files placed beside js.yml.
      for (const k of ['root-ca', 'certificate', 'key']) {
        const f = tls[k];
        if (typeof f !== 'string' || f.startsWith('/') || f.includes('/') || !bundleFiles.includes(f)) problems.push(`js.yml tls: ${k} ${String(f)} is not a bundle file beside js.yml`);
      }
    }
  }
  if (jsFile !== undefined && !/^\.\/[^/]+\/js\.yml$/.test(jsFile)) problems.push(`config.yml: file ${jsFile} is not ./<dir>/js.yml`);

  const kv = load('key-vault.yml', files.keyVaultYml);
  if (kv) {
    const vault = kv['key-vault'] as Record<string, unknown> | undefined;
    if (!vault || vault['provider'] !== 'static') problems.push('key-vault.yml: provider must be static');
    const labels = (vault?.['static'] ?? {}) as Record<string, unknown>;
    if (Object.keys(labels).length === 0) problems.push('key-vault.yml: no KEK');
    for (const [label, kek] of Object.entries(labels)) {
      if (label !== label.toLowerCase() || label.includes('.')) problems.push(`key-vault.yml: label ${label} is lower-cased or split on "." by TTS's loader: never found`);
      if (typeof kek !== 'string' || !/^[0-9a-fA-F]{32}$/.test(kek)) problems.push(`key-vault.yml: KEK of ${label} is not 32 hex digits`);
    }
  }
  return problems;
}
