/**
 * The base URL network servers reach the BI listener at, when none is given: the first public
 * host the server certificate covers (`bi.public_hosts`), else localhost, and the BI port.
 * `ns add` and `serve` both use it, so a bundle written without `--public-url` names the port
 * the server of the same configuration listens on.
 */
export function defaultPublicURL(publicHosts: readonly string[], biPort: number): string {
  const host = publicHosts[0] ?? 'localhost';
  return `https://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${biPort}`;
}
