import type { Authenticate } from './admin-auth';
import type { ClaimService } from '../claims/claim-service';
import type { DeviceService } from '../devices/device-service';
import type { PeerService } from '../peers/peer-service';
import type { Store } from '../store/store';
import type { TenantService } from '../tenants/tenant-service';

/** What the admin API's resource plugins work with. */
export interface AdminContext {
  readonly store: Store;
  readonly tenants: TenantService;
  readonly devices: DeviceService;
  readonly claims: ClaimService;
  readonly peers: PeerService;
  /** Who a request is (an API key; the local CLI: the operator). */
  readonly authenticate: Authenticate;
}
