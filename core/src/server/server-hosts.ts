import * as os from 'node:os';

/**
 * The names and addresses the BI server certificate covers: the loopback names, this host's
 * name, and what the operator gave (`--public-host`, the host of `--public-url`).
 */
export function serverHosts(publicHosts: readonly string[]): string[] {
  return [...new Set(['localhost', '127.0.0.1', '::1', os.hostname(), ...publicHosts].filter((h) => h !== ''))];
}
