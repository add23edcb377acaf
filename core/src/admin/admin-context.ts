import type { Authenticate } from './admin-auth';
import type { ClaimService } from '../claims/claim-service';
import type { DeviceService } from '../devices/device-service';
import type { PeerService } from '../peers/peer-service';
import type { AuditLog } from '../store/ports/audit-log';
import type { DeviceRegistry } from '../store/ports/device-registry';
import type { JoinHistory } from '../store/ports/join-history';
import type { TenantService } from '../tenants/tenant-service';

/** What the admin API's resource plugins work with. */
export interface AdminContext {
  /** What the routes read from the store themselves: the audit log, first joins for usage, the join rate. */
  readonly store: AuditLog & DeviceRegistry & Pick<JoinHistory, 'joinRate'>;
  readonly tenants: TenantService;
  readonly devices: DeviceService;
  readonly claims: ClaimService;
  readonly peers: PeerService;
  /** Who a request is (an API key; the local CLI: the operator). */
  readonly authenticate: Authenticate;
}
