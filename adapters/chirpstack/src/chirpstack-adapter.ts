import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import * as common from '@chirpstack/chirpstack-api/common/common_pb';
import { DeviceServiceClient } from '@chirpstack/chirpstack-api/api/device_grpc_pb';
import * as devicePb from '@chirpstack/chirpstack-api/api/device_pb';
import { DeviceProfileServiceClient } from '@chirpstack/chirpstack-api/api/device_profile_grpc_pb';
import * as profilePb from '@chirpstack/chirpstack-api/api/device_profile_pb';
import {
  dialectOf,
  parseEUI64,
  retryPolicy,
  rateLimiter,
  withRetry,
  type AdapterCapability,
  type AdapterDevice,
  type AdapterOperation,
  type AdapterSetupInput,
  type DevicePage,
  type DevicePageRequest,
  type EUI64,
  type EventWatch,
  type MACVersion,
  type NetworkServerAdapter,
  type RemoteDevice,
  type RenderedSetup,
  type RateLimiter,
  type RetryPolicy,
} from '@joinery/core';
import type { ChirpStackOptions } from './chirpstack-options';
import { renderChirpStackSetup } from './chirpstack-setup';
import { watchChirpStack } from './chirpstack-watch';
import { grpcCode, unary } from './grpc-call';

export const CHIRPSTACK_CAPABILITIES: ReadonlySet<AdapterCapability> = new Set<AdapterCapability>(['setup-files', 'devices', 'list-devices', 'watch', 'local-join']);

const MAC_VERSIONS: Record<MACVersion, common.MacVersionMap[keyof common.MacVersionMap]> = {
  '1.0.0': common.MacVersion.LORAWAN_1_0_0,
  '1.0.1': common.MacVersion.LORAWAN_1_0_1,
  '1.0.2': common.MacVersion.LORAWAN_1_0_2,
  '1.0.3': common.MacVersion.LORAWAN_1_0_3,
  '1.0.4': common.MacVersion.LORAWAN_1_0_4,
  '1.1': common.MacVersion.LORAWAN_1_1_0,
};

/**
 * Regional parameters revision of an ensured device profile, per MAC version. Inference: the
 * revision each MAC version was published with (1.0.2 with RP 1.0.2rB, 1.0.4 with RP002-1.0.3,
 * 1.1 with RP 1.1rA); the device's real revision may differ (set --device-profile-id then).
 */
const REG_PARAMS: Record<MACVersion, common.RegParamsRevisionMap[keyof common.RegParamsRevisionMap]> = {
  '1.0.0': common.RegParamsRevision.A,
  '1.0.1': common.RegParamsRevision.A,
  '1.0.2': common.RegParamsRevision.B,
  '1.0.3': common.RegParamsRevision.A,
  '1.0.4': common.RegParamsRevision.RP002_1_0_3,
  '1.1': common.RegParamsRevision.A,
};

/** The ChirpStack v4 adapter: devices over its gRPC API (DeviceService, DeviceProfileService). */
export class ChirpStackAdapter implements NetworkServerAdapter {
  readonly vendor = 'chirpstack';
  readonly capabilities = CHIRPSTACK_CAPABILITIES;
  readonly dialect = dialectOf('chirpstack');
  private readonly devices: DeviceServiceClient;
  private readonly profiles: DeviceProfileServiceClient;
  private readonly policy: RetryPolicy;
  private readonly limiter: RateLimiter;
  private readonly profileIDs = new Map<string, Promise<string>>();

  constructor(private readonly o: ChirpStackOptions) {
    this.policy = retryPolicy(o.retry);
    this.limiter = rateLimiter(o.rateLimit);
    const credentials = o.tls ? grpc.credentials.createSsl(o.caCertFile ? readFileSync(o.caCertFile) : null) : grpc.credentials.createInsecure();
    this.devices = new DeviceServiceClient(o.target, credentials);
    this.profiles = new DeviceProfileServiceClient(o.target, credentials, { channelOverride: this.devices.getChannel() } as grpc.ClientOptions);
  }

  renderSetup(input: AdapterSetupInput): RenderedSetup {
    return renderChirpStackSetup(input);
  }

  private call<Req, Res>(operation: AdapterOperation, method: Parameters<typeof unary<Req, Res>>[0], request: Req): Promise<Res> {
    return withRetry(this.policy, { vendor: this.vendor, operation }, (signal) => this.limiter.schedule(() => unary(method, request, { operation, apiKey: this.o.apiKey, timeoutMs: this.policy.timeoutMs, signal })));
  }

  async registerDevice(device: AdapterDevice): Promise<{ created: boolean }> {
    const profileID = await this.deviceProfileFor(device.macVersion);
    // Only these fields, by name: never keys (a device with keys is joined by ChirpStack itself).
    const d = new devicePb.Device();
    d.setDevEui(device.devEUI);
    d.setJoinEui(device.joinEUI);
    d.setName(device.name ?? device.devEUI);
    d.setDescription('joined through the Joinery Join Server');
    d.setApplicationId(this.o.applicationId);
    d.setDeviceProfileId(profileID);
    const req = new devicePb.CreateDeviceRequest();
    req.setDevice(d);
    try {
      await this.call('registerDevice', this.devices.create.bind(this.devices), req);
      return { created: true };
    } catch (err) {
      if (grpcCode(err) === grpc.status.ALREADY_EXISTS) return { created: false };
      throw err;
    }
  }

  async deregisterDevice(devEUI: EUI64): Promise<{ deleted: boolean }> {
    const req = new devicePb.DeleteDeviceRequest();
    req.setDevEui(devEUI);
    try {
      await this.call('deregisterDevice', this.devices.delete.bind(this.devices), req);
      return { deleted: true };
    } catch (err) {
      if (grpcCode(err) === grpc.status.NOT_FOUND) return { deleted: false };
      throw err;
    }
  }

  async getDevice(devEUI: EUI64): Promise<RemoteDevice | null> {
    const req = new devicePb.GetDeviceRequest();
    req.setDevEui(devEUI);
    try {
      const res = await this.call('getDevice', this.devices.get.bind(this.devices), req);
      const d = res.getDevice();
      if (!d) return null;
      if (d.getApplicationId() && d.getApplicationId() !== this.o.applicationId) return null; // another application's
      return { devEUI: parseEUI64(d.getDevEui()), joinEUI: d.getJoinEui() ? parseEUI64(d.getJoinEui()) : null, name: d.getName(), remoteID: d.getDevEui() };
    } catch (err) {
      if (grpcCode(err) === grpc.status.NOT_FOUND) return null;
      throw err;
    }
  }

  async listDevices(page: DevicePageRequest = {}): Promise<DevicePage> {
    const limit = Math.min(Math.max(page.pageSize ?? 100, 1), 1000);
    const offset = page.pageToken === undefined ? 0 : Number(page.pageToken);
    if (!Number.isInteger(offset) || offset < 0) throw new RangeError(`chirpstack listDevices: bad page token "${page.pageToken}"`);
    const req = new devicePb.ListDevicesRequest();
    req.setApplicationId(this.o.applicationId);
    req.setLimit(limit);
    req.setOffset(offset);
    const res = await this.call('listDevices', this.devices.list.bind(this.devices), req);
    const items = res.getResultList();
    const devices = items.map((i) => ({ devEUI: parseEUI64(i.getDevEui()), joinEUI: null, name: i.getName(), remoteID: i.getDevEui() }));
    const next = offset + items.length;
    return items.length > 0 && next < res.getTotalCount() ? { devices, nextPageToken: String(next) } : { devices };
  }

  /**
   * ChirpStack joins a device itself when it holds device keys for it (it asks a Join Server
   * only for a device without keys). The keys' answer is dropped unread: only NOT_FOUND or not
   * matters.
   */
  async localJoin(devEUI: EUI64): Promise<string | null> {
    const req = new devicePb.GetDeviceKeysRequest();
    req.setDevEui(devEUI);
    try {
      await this.call('localJoin', this.devices.getKeys.bind(this.devices), req);
      return 'ChirpStack holds root keys (device keys) for it and joins it itself, never asking Joinery';
    } catch (err) {
      if (grpcCode(err) === grpc.status.NOT_FOUND) return null;
      throw err;
    }
  }

  async removeLocalJoin(devEUI: EUI64): Promise<{ removed: boolean }> {
    const req = new devicePb.DeleteDeviceKeysRequest();
    req.setDevEui(devEUI);
    try {
      await this.call('removeLocalJoin', this.devices.deleteKeys.bind(this.devices), req);
      return { removed: true };
    } catch (err) {
      if (grpcCode(err) === grpc.status.NOT_FOUND) return { removed: false };
      throw err;
    }
  }

  watch(devEUIs: readonly EUI64[]): EventWatch {
    return watchChirpStack(this.o, devEUIs);
  }

  async close(): Promise<void> {
    await this.limiter.stop();
    this.devices.close();
    this.profiles.close();
  }

  /** The device profile for a MAC version: the configured one, or `joinery-<region>-<mac>` (found or created, OTAA). */
  private deviceProfileFor(mac: MACVersion): Promise<string> {
    if (this.o.deviceProfileId) return Promise.resolve(this.o.deviceProfileId);
    const name = `joinery-${this.o.region.toLowerCase()}-lorawan-${mac}`;
    let p = this.profileIDs.get(name);
    if (!p) {
      p = this.ensureDeviceProfile(name, mac);
      this.profileIDs.set(name, p);
      p.catch(() => this.profileIDs.delete(name));
    }
    return p;
  }

  private async ensureDeviceProfile(name: string, mac: MACVersion): Promise<string> {
    const tenantId = this.o.tenantId!;
    for (let offset = 0; ;) {
      const list = new profilePb.ListDeviceProfilesRequest();
      list.setTenantId(tenantId);
      list.setSearch(name);
      list.setLimit(100);
      list.setOffset(offset);
      const res = await this.call('ensureDeviceProfile', this.profiles.list.bind(this.profiles), list);
      const found = res.getResultList().find((p) => p.getName() === name);
      if (found) return found.getId();
      offset += res.getResultList().length;
      if (res.getResultList().length === 0 || offset >= res.getTotalCount()) break;
    }
    const dp = new profilePb.DeviceProfile();
    dp.setTenantId(tenantId);
    dp.setName(name);
    dp.setDescription('OTAA through the Joinery Join Server (created by joinery ns sync)');
    dp.setRegion(common.Region[this.o.region]);
    dp.setMacVersion(MAC_VERSIONS[mac]);
    dp.setRegParamsRevision(REG_PARAMS[mac]);
    dp.setAdrAlgorithmId('default');
    dp.setSupportsOtaa(true);
    dp.setUplinkInterval(3600);
    const req = new profilePb.CreateDeviceProfileRequest();
    req.setDeviceProfile(dp);
    const res = await this.call('ensureDeviceProfile', this.profiles.create.bind(this.profiles), req);
    return res.getId();
  }
}
