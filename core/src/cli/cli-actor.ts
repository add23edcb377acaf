import * as os from 'node:os';
import type { AuditContext } from '../store/audit-event';
import { OPERATOR_TENANT } from '../tenants/tenant';

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

/** Who runs the local CLI, as the audit trail records it: the operator, on this host. */
export function cliAuditContext(): AuditContext {
  return { actor: cliActor(), tenantID: OPERATOR_TENANT, source: `cli@${os.hostname()}` };
}
