import * as os from 'node:os';

/** Who runs the CLI, as the audit trail records it. */
export function cliActor(): string {
  let user = 'unknown';
  try {
    user = os.userInfo().username;
  } catch {
    // no passwd entry (containers): keep "unknown"
  }
  return `cli:${user}@${os.hostname()}`;
}
