import { randomBytes, randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { DeviceServiceService } from '@chirpstack/chirpstack-api/api/device_grpc_pb';
import * as devicePb from '@chirpstack/chirpstack-api/api/device_pb';
import { DeviceProfileServiceService } from '@chirpstack/chirpstack-api/api/device_profile_grpc_pb';
import * as profilePb from '@chirpstack/chirpstack-api/api/device_profile_pb';
import { Empty } from 'google-protobuf/google/protobuf/empty_pb';
import * as mqtt from 'mqtt';
import { adapterModule } from '@joinery/adapter-chirpstack';
import { fakePlumbing, MQTT_URL, type FakeNetworkServer, type FakeTransport, type Fault, type RecordedRequest } from '../../../test/src/adapters/fake-network-server';

export interface ChirpStackFake extends FakeNetworkServer {
  readonly url: string;
  readonly applicationId: string;
  readonly tenantId: string;
  readonly topicPrefix: string;
  /** Devices on the fake: DevEUI → the Create message as an object. */
  readonly devices: Map<string, devicePb.Device.AsObject>;
  readonly profiles: Map<string, profilePb.DeviceProfile.AsObject>;
  /** Device keys ChirpStack holds (it then joins the device itself): DevEUI → keys. */
  readonly deviceKeys: Map<string, devicePb.DeviceKeys.AsObject>;
}

const FAULT_STATUS: Record<Exclude<Fault, 'hang'>, grpc.status> = {
  'rate-limited': grpc.status.RESOURCE_EXHAUSTED,
  unavailable: grpc.status.UNAVAILABLE,
  'bad-request': grpc.status.INVALID_ARGUMENT,
};

/**
 * A real in-process gRPC server implementing ChirpStack v4's DeviceService and
 * DeviceProfileService (the package's own service definitions), devices in memory, the Bearer
 * token enforced, every request recorded.
 */
export async function startChirpStackFake(): Promise<ChirpStackFake> {
  const apiKey = randomBytes(24).toString('base64url');
  const applicationId = randomUUID();
  const tenantId = randomUUID();
  const topicPrefix = `joinery-test-${randomBytes(6).toString('hex')}/application`;
  const devices = new Map<string, devicePb.Device.AsObject>();
  const profiles = new Map<string, profilePb.DeviceProfile.AsObject>();
  const deviceKeys = new Map<string, devicePb.DeviceKeys.AsObject>();
  const recorded: RecordedRequest[] = [];
  const faults: Array<{ fault: Fault }> = [];

  type Handler = (req: any) => unknown;
  const serve =
    (operation: string, handler: Handler): grpc.handleUnaryCall<any, any> =>
    (call, callback) => {
      const authorization = (call.metadata.get('authorization')[0] as string | undefined) ?? null;
      const message = call.request as { toObject(): unknown; serializeBinary(): Uint8Array };
      const fault = faults.shift()?.fault ?? null;
      recorded.push({ operation, authorization, body: `${JSON.stringify(message.toObject())}\n${Buffer.from(message.serializeBinary()).toString('hex')}`, fault });
      if (fault === 'hang') return; // never answers: the client's deadline must fire
      if (fault) return callback({ code: FAULT_STATUS[fault], details: `injected ${fault}` } as grpc.ServiceError, null);
      if (authorization !== `Bearer ${apiKey}`) return callback({ code: grpc.status.UNAUTHENTICATED, details: 'authorization error' } as grpc.ServiceError, null);
      try {
        callback(null, handler(call.request));
      } catch (err) {
        const e = err as { code?: grpc.status; message: string };
        callback({ code: e.code ?? grpc.status.INTERNAL, details: e.message } as grpc.ServiceError, null);
      }
    };
  const fail = (code: grpc.status, message: string): never => {
    throw Object.assign(new Error(message), { code });
  };
  const unimplemented = (def: grpc.ServiceDefinition): grpc.UntypedServiceImplementation =>
    Object.fromEntries(Object.keys(def).map((k) => [k, serve(`${k} (unimplemented)`, () => fail(grpc.status.UNIMPLEMENTED, 'not in the fake'))]));

  const server = new grpc.Server();
  server.addService(DeviceServiceService, {
    ...unimplemented(DeviceServiceService),
    create: serve('/api.DeviceService/Create', (req: devicePb.CreateDeviceRequest) => {
      const d = req.getDevice() ?? fail(grpc.status.INVALID_ARGUMENT, 'device is required');
      if (!/^[0-9a-f]{16}$/.test(d.getDevEui())) fail(grpc.status.INVALID_ARGUMENT, 'invalid dev_eui');
      if (d.getApplicationId() !== applicationId) fail(grpc.status.NOT_FOUND, 'Object does not exist (application)');
      if (!profiles.has(d.getDeviceProfileId())) fail(grpc.status.NOT_FOUND, 'Object does not exist (device profile)');
      if (devices.has(d.getDevEui())) fail(grpc.status.ALREADY_EXISTS, 'Object already exists');
      devices.set(d.getDevEui(), d.toObject());
      return new Empty();
    }),
    get: serve('/api.DeviceService/Get', (req: devicePb.GetDeviceRequest) => {
      const d = devices.get(req.getDevEui()) ?? fail(grpc.status.NOT_FOUND, 'Object does not exist');
      const res = new devicePb.GetDeviceResponse();
      const m = new devicePb.Device();
      m.setDevEui(d.devEui);
      m.setJoinEui(d.joinEui);
      m.setName(d.name);
      m.setApplicationId(d.applicationId);
      m.setDeviceProfileId(d.deviceProfileId);
      res.setDevice(m);
      return res;
    }),
    delete: serve('/api.DeviceService/Delete', (req: devicePb.DeleteDeviceRequest) => {
      if (!devices.delete(req.getDevEui())) fail(grpc.status.NOT_FOUND, 'Object does not exist');
      deviceKeys.delete(req.getDevEui());
      return new Empty();
    }),
    // ChirpStack's device_keys storage: NotFound ("Object does not exist") when a device has none.
    getKeys: serve('/api.DeviceService/GetKeys', (req: devicePb.GetDeviceKeysRequest) => {
      const k = deviceKeys.get(req.getDevEui()) ?? fail(grpc.status.NOT_FOUND, 'Object does not exist');
      const keys = new devicePb.DeviceKeys();
      keys.setDevEui(k.devEui);
      keys.setNwkKey(k.nwkKey);
      keys.setAppKey(k.appKey);
      const res = new devicePb.GetDeviceKeysResponse();
      res.setDeviceKeys(keys);
      return res;
    }),
    deleteKeys: serve('/api.DeviceService/DeleteKeys', (req: devicePb.DeleteDeviceKeysRequest) => {
      if (!deviceKeys.delete(req.getDevEui())) fail(grpc.status.NOT_FOUND, 'Object does not exist');
      return new Empty();
    }),
    list: serve('/api.DeviceService/List', (req: devicePb.ListDevicesRequest) => {
      if (req.getLimit() === 0) fail(grpc.status.INVALID_ARGUMENT, 'limit must be > 0');
      const all = [...devices.values()].filter((d) => d.applicationId === req.getApplicationId()).sort((a, b) => a.devEui.localeCompare(b.devEui));
      const res = new devicePb.ListDevicesResponse();
      res.setTotalCount(all.length);
      res.setResultList(
        all.slice(req.getOffset(), req.getOffset() + req.getLimit()).map((d) => {
          const i = new devicePb.DeviceListItem();
          i.setDevEui(d.devEui);
          i.setName(d.name);
          i.setDeviceProfileId(d.deviceProfileId);
          return i;
        }),
      );
      return res;
    }),
  });
  server.addService(DeviceProfileServiceService, {
    ...unimplemented(DeviceProfileServiceService),
    create: serve('/api.DeviceProfileService/Create', (req: profilePb.CreateDeviceProfileRequest) => {
      const p = req.getDeviceProfile() ?? fail(grpc.status.INVALID_ARGUMENT, 'device_profile is required');
      if (p.getTenantId() !== tenantId) fail(grpc.status.NOT_FOUND, 'Object does not exist (tenant)');
      const id = randomUUID();
      profiles.set(id, { ...p.toObject(), id });
      const res = new profilePb.CreateDeviceProfileResponse();
      res.setId(id);
      return res;
    }),
    list: serve('/api.DeviceProfileService/List', (req: profilePb.ListDeviceProfilesRequest) => {
      const all = [...profiles.values()].filter((p) => p.tenantId === req.getTenantId() && p.name.includes(req.getSearch()));
      const res = new profilePb.ListDeviceProfilesResponse();
      res.setTotalCount(all.length);
      res.setResultList(
        all.slice(req.getOffset(), req.getOffset() + req.getLimit()).map((p) => {
          const i = new profilePb.DeviceProfileListItem();
          i.setId(p.id);
          i.setName(p.name);
          i.setRegion(p.region);
          i.setMacVersion(p.macVersion);
          i.setSupportsOtaa(p.supportsOtaa);
          return i;
        }),
      );
      return res;
    }),
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  const url = `http://127.0.0.1:${port}`;
  let publisher: mqtt.MqttClient | null = null;
  const transport: FakeTransport = {
    requests: () => recorded,
    failNext(count, fault) {
      for (let i = 0; i < count; i++) faults.push({ fault });
    },
    async stop() {
      await publisher?.endAsync();
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      server.forceShutdown();
    },
  };

  return {
    url,
    apiKey,
    accepts: (authorization) => authorization === `Bearer ${apiKey}`,
    applicationId,
    tenantId,
    topicPrefix,
    devices,
    profiles,
    deviceKeys,
    seedLocalJoin(devEUI) {
      if (!devices.has(devEUI)) throw new Error(`fake ChirpStack: no device ${devEUI} to give keys to`);
      deviceKeys.set(devEUI, { devEui: devEUI, nwkKey: randomBytes(16).toString('hex'), appKey: randomBytes(16).toString('hex'), genAppKey: '' });
    },
    ...fakePlumbing(transport, adapterModule, { apiUrl: url, apiKey, options: { applicationId, tenantId, mqttUrl: MQTT_URL, mqttTopicPrefix: topicPrefix }, sendsRetryAfter: false }),
    async publishEvent(kind, devEUI, payload, fCnt) {
      publisher ??= await mqtt.connectAsync(MQTT_URL);
      const body =
        kind === 'up'
          ? { deviceInfo: { applicationId, devEui: devEUI }, devAddr: '26011234', fCnt, fPort: 1, data: payload.toString('base64'), time: new Date().toISOString() }
          : { deviceInfo: { applicationId, devEui: devEUI }, devAddr: '26011234', time: new Date().toISOString() };
      await publisher.publishAsync(`${topicPrefix}/${applicationId}/device/${devEUI}/event/${kind}`, JSON.stringify(body));
    },
  };
}
