import type * as SmolTOML from 'smol-toml' with { 'resolution-mode': 'require' };

// smol-toml ships CommonJS for require() but declares ESM types only.
const { parse } = require('smol-toml') as typeof SmolTOML;

/**
 * What ChirpStack v4's configuration loader does with the Join Server part of chirpstack.toml,
 * written from its source (`chirpstack/src/config.rs`: `JoinServerServer`, `Kek`,
 * `BackendInterfaces`; `lrwn/src/eui64.rs`: `EUI64Prefix::from_str`; `api/backend/mod.rs`:
 * the listener's TLS and client verification; `backend/src/lib.rs`: async mode). Its structs
 * are `#[serde(default)]` without `deny_unknown_fields`, so an unknown key is dropped silently:
 * this validator refuses it, since a misspelt key is a setting that never takes effect.
 *
 * Returns the problems found (empty: ChirpStack loads the file and uses it as meant).
 */
export function chirpStackConfigProblems(text: string): string[] {
  let toml: Record<string, unknown>;
  try {
    toml = parse(text) as Record<string, unknown>;
  } catch (err) {
    return [`not TOML: ${(err as Error).message}`];
  }
  const problems: string[] = [];
  const known = (where: string, o: Record<string, unknown>, keys: readonly string[]): void => {
    for (const k of Object.keys(o)) if (!keys.includes(k)) problems.push(`${where}: unknown key ${k} (ChirpStack ignores it)`);
  };
  const str = (where: string, v: unknown): v is string => {
    if (typeof v === 'string') return true;
    problems.push(`${where}: must be a string, is ${JSON.stringify(v)}`);
    return false;
  };
  known('top level', toml, ['join_server', 'keks', 'backend_interfaces']);

  const joinServer = (toml['join_server'] ?? {}) as Record<string, unknown>;
  known('[join_server]', joinServer, ['servers']);
  const servers = (joinServer['servers'] ?? []) as Array<Record<string, unknown>>;
  if (!Array.isArray(servers) || servers.length === 0) problems.push('[[join_server.servers]]: none');
  let anyAsync = false;
  for (const [i, s] of (Array.isArray(servers) ? servers : []).entries()) {
    const where = `[[join_server.servers]] #${i + 1}`;
    known(where, s, ['join_eui_prefix', 'join_eui', 'server', 'async_timeout', 'ca_cert', 'tls_cert', 'tls_key', 'authorization_header']);
    // EUI64Prefix::from_str: 16 hex digits, optionally "/" and a decimal size.
    if (str(`${where} join_eui_prefix`, s['join_eui_prefix']) && !/^[0-9a-fA-F]{16}(\/\d+)?$/.test(s['join_eui_prefix'])) problems.push(`${where}: join_eui_prefix ${s['join_eui_prefix']} is not <16 hex>[/N]`);
    if (str(`${where} server`, s['server']) && !/^https?:\/\//.test(s['server'])) problems.push(`${where}: server must be an http(s) URL`);
    // humantime_serde: a number and a unit ("0s", "1s", "500ms").
    const timeout = s['async_timeout'] ?? '0s';
    if (str(`${where} async_timeout`, timeout)) {
      const m = /^(\d+)\s*(ns|us|ms|s|m|h)$/.exec(timeout);
      if (!m) problems.push(`${where}: async_timeout ${timeout} is not a humantime duration`);
      else if (Number(m[1]) > 0) anyAsync = true;
    }
    for (const k of ['ca_cert', 'tls_cert', 'tls_key'] as const) {
      if (s[k] !== undefined && str(`${where} ${k}`, s[k]) && !s[k].startsWith('/')) problems.push(`${where}: ${k} ${s[k]} is relative (ChirpStack opens it from its working directory)`);
    }
    if (s['tls_cert'] === undefined || s['tls_key'] === undefined) problems.push(`${where}: no client certificate (tls_cert, tls_key): the Join Server identifies ChirpStack by it`);
    if (s['authorization_header'] !== undefined) str(`${where} authorization_header`, s['authorization_header']);
  }

  const keks = (toml['keks'] ?? []) as Array<Record<string, unknown>>;
  if (!Array.isArray(keks) || keks.length === 0) problems.push('[[keks]]: none (ChirpStack cannot unwrap the session keys)');
  for (const [i, k] of (Array.isArray(keks) ? keks : []).entries()) {
    known(`[[keks]] #${i + 1}`, k, ['label', 'kek']);
    if (str(`[[keks]] #${i + 1} label`, k['label']) && k['label'] === '') problems.push('[[keks]]: empty label');
    if (str(`[[keks]] #${i + 1} kek`, k['kek']) && !/^[0-9a-fA-F]{32}$/.test(k['kek'])) problems.push('[[keks]]: kek is not 32 hex digits');
  }

  const bi = toml['backend_interfaces'] as Record<string, unknown> | undefined;
  if (bi !== undefined) {
    known('[backend_interfaces]', bi, ['bind', 'ca_cert', 'tls_cert', 'tls_key']);
    // bind is parsed as a SocketAddr: an IP address and a port, never a host name.
    if (str('[backend_interfaces] bind', bi['bind']) && !/^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:]+\]):\d{1,5}$/.test(bi['bind'])) problems.push(`[backend_interfaces]: bind ${bi['bind']} is not <ip>:<port>`);
    for (const k of ['ca_cert', 'tls_cert', 'tls_key'] as const) {
      if (!str(`[backend_interfaces] ${k}`, bi[k]) || !bi[k].startsWith('/')) problems.push(`[backend_interfaces]: ${k} must be an absolute path`);
    }
  }
  // Async mode: ChirpStack answers the request with nothing and waits for the answer on its
  // listener; without one (or without client verification) the answer never arrives.
  if (anyAsync && (bi === undefined || !bi['bind'])) problems.push('async_timeout above zero but no [backend_interfaces] listener: every join times out');
  if (anyAsync && bi !== undefined && !bi['ca_cert']) problems.push("[backend_interfaces]: no ca_cert: the Join Server's client certificate is not verified");
  return problems;
}
