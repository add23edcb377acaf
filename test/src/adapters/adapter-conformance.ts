import { randomBytes } from 'node:crypto';
import { AdapterError, listAllDevices, parseEUI64, type AdapterDevice, type AdapterCapability, type MACVersion } from '@joinery/core';
import type { ConformanceTarget, FakeNetworkServer, RecordedRequest } from './fake-network-server';

/** A device as Joinery holds it, root keys included: the adapter must send none of it but ids. */
interface KeyedDevice extends AdapterDevice {
  readonly appKey: string;
  readonly nwkKey: string;
}

function keyedDevice(i: number, macVersion: MACVersion = '1.0.3'): KeyedDevice {
  return {
    devEUI: parseEUI64(`70b3d5${randomBytes(3).toString('hex')}${i.toString(16).padStart(4, '0')}00`.slice(0, 16)),
    joinEUI: parseEUI64('70b3d57ed0000000'),
    macVersion,
    appKey: randomBytes(16).toString('hex'),
    nwkKey: randomBytes(16).toString('hex'),
  };
}

/**
 * The shared adapter conformance suite: every adapter runs it against a fake of its vendor's API
 * that records every request. Each case starts a fresh fake; cases of a capability the adapter
 * does not declare are skipped.
 */
export function adapterConformance(target: ConformanceTarget): void {
  const refused = new Set(target.refusedMACVersions ?? []);
  const when = (capability: AdapterCapability): jest.It => (target.capabilities.has(capability) ? it : it.skip);
  let fake: FakeNetworkServer;
  /** The API calls the fake received (OAuth2 token requests left out). */
  const apiCalls = (): RecordedRequest[] => fake.requests().filter((r) => !r.tokenExchange);

  describe(`${target.vendor}/adapter conformance`, () => {
    beforeEach(async () => {
      fake = await target.startFake();
    });
    afterEach(async () => {
      await fake.stop();
    });

    it('declares its vendor and a dialect', () => {
      const a = fake.adapter();
      expect(a.vendor).toBe(target.vendor);
      expect(a.capabilities).toEqual(target.capabilities);
      expect(['clear', 'wrapped-ns-kek']).toContain(a.dialect.appSKeyWithoutAS);
    });

    when('devices')('devices/register is idempotent, get finds it, deregister is idempotent', async () => {
      const a = fake.adapter();
      const d = keyedDevice(1);
      expect(await a.getDevice(d.devEUI)).toBeNull();
      expect(await a.registerDevice(d)).toEqual({ created: true });
      expect(await a.registerDevice(d)).toEqual({ created: false });
      const got = await a.getDevice(d.devEUI);
      expect(got?.devEUI).toBe(d.devEUI);
      expect(await a.deregisterDevice(d.devEUI)).toEqual({ deleted: true });
      expect(await a.deregisterDevice(d.devEUI)).toEqual({ deleted: false });
      expect(await a.getDevice(d.devEUI)).toBeNull();
    });

    when('devices')('devices/every MAC version registers, or is refused before any call with a reason', async () => {
      const a = fake.adapter();
      const versions: MACVersion[] = ['1.0.0', '1.0.1', '1.0.2', '1.0.3', '1.0.4', '1.1'];
      for (const [i, v] of versions.entries()) {
        if (!refused.has(v)) {
          expect(await a.registerDevice(keyedDevice(i, v))).toEqual({ created: true });
          continue;
        }
        const before = fake.requests().length;
        const err = await a.registerDevice(keyedDevice(i, v)).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(AdapterError);
        expect(err).toMatchObject({ retryable: false, vendor: target.vendor });
        expect(String(err)).toContain(`LoRaWAN ${v}`);
        expect(fake.requests().length).toBe(before);
      }
    });

    when('local-join')('local-join/a device the network server holds keys for is reported, and removing them ends it', async () => {
      const a = fake.adapter();
      const d = keyedDevice(1);
      expect(await a.registerDevice(d)).toEqual({ created: true });
      expect(await a.localJoin!(d.devEUI)).toBeNull();
      fake.seedLocalJoin!(d.devEUI);
      const found = await a.localJoin!(d.devEUI);
      expect(found).toMatch(/joins it itself|joins it, never asking Joinery/);
      // One line for the operator: never a key.
      expect(found).not.toMatch(/[0-9a-fA-F]{32}/);
      expect(await a.removeLocalJoin!(d.devEUI)).toEqual({ removed: true });
      expect(await a.localJoin!(d.devEUI)).toBeNull();
      expect(await a.removeLocalJoin!(d.devEUI)).toEqual({ removed: false });
      expect(await a.getDevice(d.devEUI)).not.toBeNull(); // the device itself stays
    });

    when('list-devices')('list/pages over more than one page, each device once', async () => {
      const a = fake.adapter();
      const ds = [1, 2, 3, 4, 5].map((i) => keyedDevice(i));
      for (const d of ds) await a.registerDevice(d);
      const pages: string[][] = [];
      let token: string | undefined;
      do {
        const page = await a.listDevices(token === undefined ? { pageSize: 2 } : { pageSize: 2, pageToken: token });
        expect(page.devices.length).toBeLessThanOrEqual(2);
        pages.push(page.devices.map((x) => x.devEUI));
        token = page.nextPageToken;
      } while (token !== undefined);
      expect(pages.length).toBeGreaterThanOrEqual(3);
      expect(pages.flat().sort()).toEqual(ds.map((d) => d.devEUI).sort());
      expect((await listAllDevices(a, 2)).map((x) => x.devEUI).sort()).toEqual(ds.map((d) => d.devEUI).sort());
    });

    when('devices')('retry/429 and 503 are retried until success', async () => {
      const a = fake.adapter();
      fake.failNext(1, 'rate-limited');
      fake.failNext(1, 'unavailable');
      expect(await a.registerDevice(keyedDevice(1))).toEqual({ created: true });
      expect(
        fake
          .requests()
          .filter((r) => r.fault !== null)
          .map((r) => r.fault),
      ).toEqual(['rate-limited', 'unavailable']);
    });

    when('devices')('retry/attempts are bounded: a lasting 503 fails, retryable', async () => {
      const a = fake.adapter({ retry: { attempts: 3, baseDelayMs: 5, timeoutMs: 500 } });
      fake.failNext(10, 'unavailable');
      const err = await a.registerDevice(keyedDevice(1)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AdapterError);
      expect((err as AdapterError).retryable).toBe(true);
      expect((err as AdapterError).vendor).toBe(target.vendor);
      // Three tries of the call that fails (an adapter may look around between them, e.g. whether a create took effect).
      const first = apiCalls()[0]!.operation;
      expect(apiCalls().filter((r) => r.operation === first)).toHaveLength(3);
    });

    when('devices')('retry/Retry-After is respected', async () => {
      if (!fake.sendsRetryAfter) return; // gRPC has no Retry-After
      const a = fake.adapter();
      fake.failNext(1, 'rate-limited', 1);
      const t0 = Date.now();
      await a.getDevice(keyedDevice(1).devEUI);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
      expect(apiCalls()).toHaveLength(2);
    });

    when('devices')('retry/other 4xx are not retried', async () => {
      const a = fake.adapter();
      fake.failNext(1, 'bad-request');
      const err = await a.registerDevice(keyedDevice(1)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AdapterError);
      expect((err as AdapterError).retryable).toBe(false);
      expect((err as AdapterError).status).not.toBeNull();
      expect(apiCalls()).toHaveLength(1);
    });

    when('devices')('timeout/a call with no answer times out and is retried', async () => {
      const a = fake.adapter({ retry: { attempts: 2, baseDelayMs: 5, timeoutMs: 300 } });
      fake.failNext(1, 'hang');
      const t0 = Date.now();
      expect(await a.getDevice(keyedDevice(1).devEUI)).toBeNull();
      expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
      expect(apiCalls()).toHaveLength(2);
    });

    when('devices')('auth/the API key goes on every call; a wrong one fails without retry', async () => {
      const a = fake.adapter();
      const ds = [1, 2, 3].map((i) => keyedDevice(i));
      for (const d of ds) await a.registerDevice(d);
      await listAllDevices(a, 2);
      await a.getDevice(ds[0]!.devEUI);
      await a.deregisterDevice(ds[1]!.devEUI);
      expect(apiCalls().length).toBeGreaterThan(5);
      for (const r of apiCalls()) expect(fake.accepts(r.authorization)).toBe(true);
      expect(fake.accepts(null)).toBe(false);
      expect(fake.accepts('Bearer not-the-key')).toBe(false);

      const before = fake.requests().length;
      const wrong = fake.adapter({ apiKey: 'not-the-key' });
      const err = await wrong.getDevice(ds[0]!.devEUI).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AdapterError);
      expect((err as AdapterError).retryable).toBe(false);
      expect(String(err)).not.toContain('not-the-key');
      expect(fake.requests().length).toBe(before + 1);
    });

    when('devices')('keys/no root key ever reaches the network server', async () => {
      const a = fake.adapter();
      const ds = (['1.0.2', '1.0.3', '1.0.4', '1.1'] as const).filter((v) => !refused.has(v)).map((v, i) => keyedDevice(i, v));
      for (const d of ds) await a.registerDevice(d);
      await listAllDevices(a, 2);
      for (const d of ds) await a.getDevice(d.devEUI);
      await a.deregisterDevice(ds[0]!.devEUI);
      const sent = fake
        .requests()
        .map((r) => `${r.operation}\n${r.authorization}\n${r.body}`)
        .join('\n')
        .toLowerCase();
      for (const d of ds) {
        for (const key of [d.appKey, d.nwkKey]) {
          expect(sent).not.toContain(key);
          expect(sent).not.toContain(Buffer.from(key, 'hex').toString('base64').toLowerCase());
        }
      }
      expect(sent).toContain(ds[1]!.devEUI); // the recording does hold what was sent
    });

    when('watch')('watch/yields join and uplink events of the watched devices only', async () => {
      const a = fake.adapter();
      const d = keyedDevice(1);
      const other = keyedDevice(2);
      const w = a.watch!([d.devEUI]);
      const publish = fake.publishEvent!.bind(fake);
      try {
        await w.ready;
        await publish('up', other.devEUI, Buffer.from('other'), 1);
        await publish('join', d.devEUI, Buffer.alloc(0), 0);
        await publish('up', d.devEUI, Buffer.from('hello'), 7);
        const it = w[Symbol.asyncIterator]();
        const first = await it.next();
        const second = await it.next();
        expect(first.value).toMatchObject({ kind: 'join', devEUI: d.devEUI });
        expect(second.value).toMatchObject({ kind: 'up', devEUI: d.devEUI, fCnt: 7 });
        expect(second.value.payload.toString()).toBe('hello');
      } finally {
        await w.close();
      }
    });
  });
}
