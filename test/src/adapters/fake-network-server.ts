import type { AdapterCapability, AdapterModule, MACVersion, NetworkServerAdapter, RetryPolicy } from '@joinery/core';

/** One request a fake network server API received, as the adapter sent it. */
export interface RecordedRequest {
  /** The API operation (`/api.DeviceService/Create`, `POST /api/v3/applications/app/devices`). */
  readonly operation: string;
  /** The Authorization header / metadata value, null when absent. */
  readonly authorization: string | null;
  /** Everything the request carried, as text (JSON of the message or body, plus the raw bytes in hex). */
  readonly body: string;
  /** The fault the fake answered with instead of serving it, if any. */
  readonly fault: Fault | null;
  /**
   * An OAuth2 token request (Actility) rather than an API call: it carries the client secret,
   * not the API's Authorization header, and faults are never injected into it.
   */
  readonly tokenExchange?: boolean;
}

/** Faults a fake injects: the vendor's 429, 503 and a plain client error, or no answer at all. */
export type Fault = 'rate-limited' | 'unavailable' | 'bad-request' | 'hang';

/** A fake of one vendor's management API, fresh for each conformance case. */
export interface FakeNetworkServer {
  readonly apiKey: string;
  /** Whether an API call's Authorization header is one this fake's credentials allow. */
  accepts(authorization: string | null): boolean;
  /** An adapter pointed at this fake (with another API key to test auth failures). */
  adapter(options?: { apiKey?: string; retry?: Partial<RetryPolicy> }): NetworkServerAdapter;
  requests(): readonly RecordedRequest[];
  /** What the fake's adapters warned the operator of (AdapterConfig.warn). */
  warnings(): readonly string[];
  /** The next `count` requests fail with `fault` (`retryAfterSeconds`: sent with rate-limited). */
  failNext(count: number, fault: Fault, retryAfterSeconds?: number): void;
  /** Whether the vendor's protocol carries Retry-After (HTTP does, gRPC does not). */
  readonly sendsRetryAfter: boolean;
  /**
   * `local-join`: gives an existing device what makes the vendor's network server join it
   * itself (ChirpStack: device keys; The Things Stack: a record in its cluster Join Server).
   */
  seedLocalJoin?(devEUI: string): void;
  /** Publishes a join or uplink event on the MQTT broker as the vendor's NS would (`watch` capability). */
  publishEvent?(kind: 'join' | 'up', devEUI: string, payload: Buffer, fCnt: number): Promise<void>;
  stop(): Promise<void>;
}

export interface ConformanceTarget {
  readonly vendor: string;
  readonly capabilities: ReadonlySet<AdapterCapability>;
  /** LoRaWAN versions the vendor cannot take without keys: the adapter refuses them before any call. */
  readonly refusedMACVersions?: readonly MACVersion[];
  startFake(): Promise<FakeNetworkServer>;
}

/** Quick retries for the fakes: answers come at once, so failures need not wait long. */
/** The broker the fakes publish their uplinks on and the adapters watch (Mosquitto). */
export const MQTT_URL = 'mqtt://127.0.0.1:1883';

export const TEST_RETRY: Partial<RetryPolicy> = { attempts: 4, baseDelayMs: 10, maxDelayMs: 3000, timeoutMs: 500 };

/** Fakes answer at once: no rate limit in the conformance runs (the limiter has its own tests). */
export const NO_LIMIT = { rateLimit: '0', maxConcurrency: '0' } as const;

export type AdapterOverrides = { apiKey?: string; retry?: Partial<RetryPolicy>; options?: Record<string, string>; omit?: readonly string[] };

/** What a fake's own transport (gRPC server, HTTP server, nock) keeps: what it was sent, the faults it will answer with, how it stops. */
export interface FakeTransport {
  requests(): readonly RecordedRequest[];
  failNext(count: number, fault: Fault, retryAfterSeconds?: number): void;
  stop(): void | Promise<void>;
}

/**
 * The FakeNetworkServer plumbing every fake shares: adapters pointed at the fake (closed by
 * stop, before the transport), the recording and the fault queue.
 */
export function fakePlumbing(
  transport: FakeTransport,
  module: AdapterModule,
  config: { readonly apiUrl: string; readonly apiKey: string; readonly options: Record<string, string>; readonly sendsRetryAfter?: boolean },
): Pick<FakeNetworkServer, 'requests' | 'failNext' | 'stop' | 'sendsRetryAfter' | 'warnings'> & { adapter(o?: AdapterOverrides): NetworkServerAdapter } {
  const adapters: NetworkServerAdapter[] = [];
  const warnings: string[] = [];
  return {
    sendsRetryAfter: config.sendsRetryAfter ?? true,
    warnings: () => warnings,
    adapter(o = {}) {
      const a = module.createAdapter({
        apiUrl: config.apiUrl,
        apiKey: o.apiKey ?? config.apiKey,
        options: Object.fromEntries(Object.entries({ ...NO_LIMIT, ...config.options, ...(o.options ?? {}) }).filter(([k]) => !o.omit?.includes(k))),
        retry: o.retry ?? TEST_RETRY,
        warn: (m) => warnings.push(m),
      });
      adapters.push(a);
      return a;
    },
    requests: () => transport.requests(),
    failNext: (count, fault, retryAfterSeconds) => transport.failNext(count, fault, retryAfterSeconds),
    async stop() {
      await Promise.all(adapters.map((a) => a.close()));
      await transport.stop();
    },
  };
}
