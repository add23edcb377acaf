import type { KeyVault } from '../keys/key-vault';
import { AES128Key } from '../lorawan/aes128-key';
import type { EUI64 } from '../lorawan/identifiers';
import type { MACVersion } from '../lorawan/mac-version';
import { auditEvent } from '../store/audit-event';
import type { Device } from '../store/device';
import type { JoinRecord } from '../store/join-record';
import type { TenantID } from '../tenants/tenant';
import type { DeviceFilter, DeviceRegistry } from '../store/ports/device-registry';
import type { JoinHistory } from '../store/ports/join-history';
import type { PeerRegistry } from '../store/ports/peer-registry';
import { isInstanceAdmin, maySee, notFound, requireScopeOf, type Principal } from '../tenants/principal';
import { Refusal } from '../tenants/refusal';
import { detectImportFormat, importUnit, parseDeviceImportFile, type ImportFormat } from './device-import-file';
import { importDevices, type ImportSummary } from './import-devices';

export interface DeviceListRequest {
  readonly limit: number;
  readonly offset: number;
  readonly networkServer?: string;
  readonly claimed?: boolean;
  /** Only devices bound to a network server (true) or to none (false). */
  readonly bound?: boolean;
  readonly macVersion?: MACVersion;
  /** Only devices owned by this tenant. */
  readonly owner?: TenantID;
  /** Only devices whose DevEUI or JoinEUI starts with these hex digits. */
  readonly euiPrefix?: string;
}

/**
 * Devices as tenants see them: a tenant lists, reads and deletes the devices it holds (owns, or
 * made and nobody claimed yet); a manufacturer imports pre-provisioned ones; the operator sees
 * every device.
 */
export class DeviceService {
  constructor(
    private readonly store: DeviceRegistry & JoinHistory & PeerRegistry,
    private readonly vault: KeyVault,
  ) {}

  async list(p: Principal, request: DeviceListRequest): Promise<{ devices: Device[]; total: number }> {
    requireScopeOf(p, 'devices:read');
    const filter: DeviceFilter = {
      ...(isInstanceAdmin(p) ? {} : { holder: p.tenantID }),
      ...(request.networkServer !== undefined ? { nsPeer: request.networkServer } : {}),
      ...(request.claimed !== undefined ? { claimed: request.claimed } : {}),
      ...(request.bound !== undefined ? { bound: request.bound } : {}),
      ...(request.macVersion !== undefined ? { macVersion: request.macVersion } : {}),
      ...(request.owner !== undefined ? { owner: request.owner } : {}),
      ...(request.euiPrefix !== undefined ? { euiPrefix: request.euiPrefix } : {}),
    };
    const [devices, total] = await Promise.all([this.store.listDevices({ ...filter, limit: request.limit, offset: request.offset }), this.store.countDevices(filter)]);
    return { devices, total };
  }

  /**
   * A device's join history, newest first. A tenant sees the joins since it claimed the device
   * (not a previous owner's networks); the operator sees them all.
   */
  async joins(p: Principal, devEUI: EUI64, limit: number): Promise<JoinRecord[]> {
    requireScopeOf(p, 'devices:read');
    const d = await this.#visible(p, devEUI);
    const records = await this.store.listJoinRecords(devEUI, limit);
    if (isInstanceAdmin(p)) return records;
    const since = d.ownership.owner === p.tenantID ? d.ownership.claimedAt : null;
    return since === null ? [] : records.filter((r) => r.at >= since);
  }

  async get(p: Principal, devEUI: EUI64): Promise<Device> {
    requireScopeOf(p, 'devices:read');
    return this.#visible(p, devEUI);
  }

  /** Pre-provisioned devices of the principal's tenant (a manufacturer): unclaimed, each with an owner token. */
  async import(
    p: Principal,
    input: { readonly content: string; readonly format?: ImportFormat; readonly transportKEK?: AES128Key; readonly allowWeakOwnerTokens?: boolean; readonly skipExisting?: boolean },
  ): Promise<ImportSummary> {
    requireScopeOf(p, 'devices:write');
    if (!p.tenant.roles.includes('manufacturer')) throw new Refusal('forbidden', `tenant ${p.tenantID} is not a manufacturer: only manufacturers import devices`);
    const format = input.format ?? detectImportFormat('', input.content);
    const rows = parseDeviceImportFile(input.content, format, { wrappedKeys: input.transportKEK !== undefined });
    const kek = input.transportKEK ? await this.vault.importKey(input.transportKEK) : undefined;
    try {
      return await importDevices({ store: this.store, vault: this.vault }, rows, { kind: 'pre-provisioned', manufacturer: p.tenantID, allowWeakOwnerTokens: input.allowWeakOwnerTokens === true }, importUnit(format), {
        audit: p,
        ...(kek ? { transportKEK: kek } : {}),
        skipExisting: input.skipExisting === true,
      });
    } finally {
      if (kek) this.vault.release(kek);
    }
  }

  async delete(p: Principal, devEUI: EUI64): Promise<void> {
    requireScopeOf(p, 'devices:write');
    const d = await this.#visible(p, devEUI);
    if (d.ownership.locked) throw new Refusal('locked', `device ${devEUI} is locked: its owner must unlock it first`);
    if (!(await this.store.deleteDevice(devEUI, auditEvent(p, 'device.delete', devEUI, { owner: d.ownership.owner, manufacturer: d.ownership.manufacturer })))) throw notFound(`device ${devEUI}`);
  }

  /** The "DevNonce already used" loop: forgets the used DevNonces (audited); never the JoinNonce. */
  async resetDevNonces(p: Principal, devEUI: EUI64, reason: string): Promise<Device> {
    requireScopeOf(p, 'devices:write');
    const before = await this.#visible(p, devEUI);
    const text = reason.trim();
    if (text === '') throw new Refusal('bad-request', 'reason: must not be empty');
    const after = await this.store.resetDevNonces(
      devEUI,
      auditEvent(p, 'device.dev-nonce.reset', devEUI, {
        reason: text.slice(0, 500),
        lastDevNonce: before.nonces.lastDevNonce,
        usedDevNonces: before.nonces.usedDevNonces.length,
        lastJoinNonce: before.nonces.lastJoinNonce,
      }),
    );
    if (!after) throw notFound(`device ${devEUI}`);
    return after;
  }

  async #visible(p: Principal, devEUI: EUI64): Promise<Device> {
    const d = await this.store.getDevice(devEUI);
    if (!d || !maySee(p, d)) throw notFound(`device ${devEUI}`);
    return d;
  }
}
