import { MigrationMetrics } from './migration-metrics';
import { PeerMetrics } from './peer-metrics';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { LatencyHistogram } from './latency-histogram';
import { MAX_JOIN_NONCE } from '../lorawan/nonces';
import { VERSION } from '../server/version';
import { DEVICE_STATES, type DeviceState } from '../store/device-state';

/** The share of the JoinNonce space past which a device counts as near exhaustion. */
export const JOIN_NONCE_WARNING_FRACTION = 0.9;
export const JOIN_NONCE_WARNING_THRESHOLD = Math.floor(JOIN_NONCE_WARNING_FRACTION * MAX_JOIN_NONCE);

/** The last value of a count over the store, counted again when older than `maxAgeMs`. */
class CountWatch<T> {
  #countedAt = -Infinity;
  #pending: Promise<T> | null = null;

  constructor(
    private readonly count: () => Promise<T>,
    private readonly maxAgeMs: number,
    private value: T,
  ) {}

  read(): Promise<T> {
    if (Date.now() - this.#countedAt < this.maxAgeMs) return Promise.resolve(this.value);
    // Concurrent scrapes share one count; a failed count keeps the last value.
    this.#pending ??= this.count()
      .then((n) => {
        this.value = n;
        this.#countedAt = Date.now();
        return n;
      })
      .catch(() => this.value)
      .finally(() => {
        this.#pending = null;
      });
    return this.#pending;
  }
}

/**
 * The Join Server's Prometheus metrics, one registry per server (served at `/metrics` on the
 * admin listener). Labels never carry a key, and never a DevEUI (unbounded cardinality).
 */
export class JoineryMetrics {
  readonly registry = new Registry();

  /** Registered peers: certificate expiry, counts by state (see `peers.watch`). */
  readonly peers = new PeerMetrics(this.registry);

  #ready: (() => Promise<void>) | null = null;

  /** 1 when the readiness check (`/readyz`) passes at the scrape, else 0. */
  readonly ready: Gauge = new Gauge({
    name: 'joinery_ready',
    help: '1 while the server is ready (the /readyz checks pass: store, key vault, data directory), else 0',
    registers: [this.registry],
    collect: async (): Promise<void> => {
      const check = this.#ready;
      if (check)
        this.ready.set(
          await check().then(
            () => 1,
            () => 0,
          ),
        );
    },
  });

  /** Where joinery_ready is checked at each scrape. */
  watchReadiness(check: () => Promise<void>): void {
    this.#ready = check;
  }

  /** Fleet migrations run by this process (admin API). */
  readonly migration = new MigrationMetrics(this.registry);

  /** Every BI request answered, by message type, BI result code and peer. */
  readonly biRequests = new Counter({
    name: 'joinery_bi_requests_total',
    help: 'Backend Interfaces requests answered, by message type, result code and peer',
    labelNames: ['message_type', 'result', 'peer'] as const,
    registers: [this.registry],
  });

  readonly biLatency = new LatencyHistogram({
    name: 'joinery_bi_request_duration_seconds',
    help: 'Time to answer a Backend Interfaces request, by message type',
    labelNames: ['message_type'] as const,
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });

  /** ErrorNotif messages peers sent us, by the result code they notify. */
  readonly errorNotifs = new Counter({
    name: 'joinery_error_notifs_received_total',
    help: 'ErrorNotif messages received, by notified result code and peer',
    labelNames: ['result', 'peer'] as const,
    registers: [this.registry],
  });

  /** Answers sent to async peers: delivered, retried, or given up. */
  readonly asyncAnswers = new Counter({
    name: 'joinery_async_answers_total',
    help: 'Asynchronous BI answers, by outcome (delivered, retry, failed) and peer',
    labelNames: ['outcome', 'peer'] as const,
    registers: [this.registry],
  });

  /** JoinReq and RejoinReq answered, by BI result code, the MAC version the NS gave, and peer. */
  readonly joins = new Counter({
    name: 'joinery_joins_total',
    help: 'Joins (JoinReq and RejoinReq) answered, by message type, BI result code, MAC version and peer',
    labelNames: ['message_type', 'result', 'mac_version', 'peer'] as const,
    registers: [this.registry],
  });

  readonly joinLatency = new LatencyHistogram({
    name: 'joinery_join_duration_seconds',
    help: 'Time to answer a join (JoinReq, RejoinReq), by MAC version and outcome (success, refused)',
    labelNames: ['mac_version', 'outcome'] as const,
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });

  /** Claims refused for a wrong owner token, or refused unheard while rate-limited. */
  readonly claimFailures = new Counter({
    name: 'joinery_claim_failures_total',
    help: 'Claims refused: a wrong owner token (wrong-token), or too many of them for the device or tenant (rate-limited)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  /** Joins refused for a DevNonce (or rejoin counter) already used: a device reset, or a replay. */
  readonly devNonceRefusals = new Counter({
    name: 'joinery_dev_nonce_refusals_total',
    help: 'Joins refused because the DevNonce (or RJcount of a rejoin) was already used, by MAC version and peer',
    labelNames: ['mac_version', 'peer'] as const,
    registers: [this.registry],
  });

  /** Rejoin-requests refused because the device reached its rejoin bound (--rejoins-per-hour). */
  readonly rejoinsRefused = new Counter({
    name: 'joinery_rejoins_refused_total',
    help: 'Rejoin-requests refused because the device had its most rejoins for the hour (--rejoins-per-hour), by peer',
    labelNames: ['peer'] as const,
    registers: [this.registry],
  });

  #joinNonceExhaustion: CountWatch<number> | null = null;

  /** Read from the store at a scrape, at most once a minute (see `watchJoinNonceExhaustion`). */
  readonly devicesNearJoinNonceExhaustion: Gauge = new Gauge({
    name: 'joinery_devices_join_nonce_near_exhaustion',
    help: `Devices whose last JoinNonce passed ${JOIN_NONCE_WARNING_FRACTION * 100}% of its 24-bit space (they need new root keys before it runs out)`,
    registers: [this.registry],
    collect: async (): Promise<void> => {
      const watch = this.#joinNonceExhaustion;
      if (watch) this.devicesNearJoinNonceExhaustion.set(await watch.read());
    },
  });

  /**
   * Where joinery_devices_join_nonce_near_exhaustion is counted: `count(threshold)` gives the
   * devices whose last JoinNonce is above `threshold`. The count runs at a scrape when the last
   * one is older than `maxAgeMs` (a scan of the devices table: not at every scrape).
   */
  watchJoinNonceExhaustion(count: (threshold: number) => Promise<number>, maxAgeMs = 60_000): void {
    this.#joinNonceExhaustion = new CountWatch(() => count(JOIN_NONCE_WARNING_THRESHOLD), maxAgeMs, 0);
  }

  #devicesByState: CountWatch<Record<DeviceState, number>> | null = null;

  /** Read from the store at a scrape, at most once a minute (see `watchDevicesByState`). */
  readonly devices: Gauge<'state'> = new Gauge({
    name: 'joinery_devices',
    help: 'Devices, by state: unclaimed (pre-provisioned, in stock), claimed (owned, bound to no network server), bound (may join)',
    labelNames: ['state'] as const,
    registers: [this.registry],
    collect: async (): Promise<void> => {
      const watch = this.#devicesByState;
      if (!watch) return;
      for (const [state, n] of Object.entries(await watch.read())) this.devices.set({ state }, n);
    },
  });

  /** Where joinery_devices is counted: `count(state)` gives the devices in that state, at a scrape when the last count is older than `maxAgeMs`. */
  watchDevicesByState(count: (state: DeviceState) => Promise<number>, maxAgeMs = 60_000): void {
    const zero = Object.fromEntries(DEVICE_STATES.map((s) => [s, 0])) as Record<DeviceState, number>;
    this.#devicesByState = new CountWatch(async () => Object.fromEntries(await Promise.all(DEVICE_STATES.map(async (s) => [s, await count(s)] as const))) as Record<DeviceState, number>, maxAgeMs, zero);
  }

  /** Store calls, by operation (method name: a fixed set) and outcome (ok, error). */
  readonly storeLatency = new LatencyHistogram({
    name: 'joinery_store_operation_duration_seconds',
    help: 'Store operations, by operation and outcome (ok, error)',
    labelNames: ['operation', 'outcome'] as const,
    buckets: [0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  /** Key vault calls, by operation (method name: a fixed set) and outcome (ok, error). */
  readonly vaultLatency = new LatencyHistogram({
    name: 'joinery_vault_operation_duration_seconds',
    help: 'Key vault operations, by operation and outcome (ok, error)',
    labelNames: ['operation', 'outcome'] as const,
    buckets: [0.00005, 0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });

  /** Join events for MQTT: published, dropped (queue full), failed (the broker refused). */
  readonly joinEvents = new Counter({
    name: 'joinery_join_events_total',
    help: 'Join events for the MQTT broker, by outcome (published, dropped, failed)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly joinEventsQueued = new Gauge({
    name: 'joinery_join_events_queued',
    help: 'Join events waiting for the MQTT broker',
    registers: [this.registry],
  });

  /** Join history records: stored, unknown-device (skipped), dropped (queue full), failed (the write failed). */
  readonly joinHistory = new Counter({
    name: 'joinery_join_history_total',
    help: 'Join history records, by outcome (stored, unknown-device, dropped, failed)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly joinHistoryQueued = new Gauge({
    name: 'joinery_join_history_queued',
    help: 'Join history records waiting to be written',
    registers: [this.registry],
  });

  #keyCacheEntries: () => number = () => 0;

  /** Read at each scrape from the key vault (see `watchKeyCache`). */
  readonly keyCacheEntries: Gauge = new Gauge({
    name: 'joinery_key_cache_entries',
    help: "Opened keys the key vault keeps in memory (a device's root keys count once; at most --key-cache-size)",
    registers: [this.registry],
    collect: (): void => this.keyCacheEntries.set(this.#keyCacheEntries()),
  });

  /** Where joinery_key_cache_entries is read at each scrape. */
  watchKeyCache(read: () => number): void {
    this.#keyCacheEntries = read;
  }

  #mqttConnected: Gauge | null = null;

  /** Exported once MQTT join events are configured (the first use): a server without MQTT has no such gauge. */
  get mqttConnected(): Gauge {
    this.#mqttConnected ??= new Gauge({
      name: 'joinery_mqtt_connected',
      help: '1 while connected to the MQTT broker for join events, else 0',
      registers: [this.registry],
    });
    return this.#mqttConnected;
  }

  /** Always 1; the labels say which release runs on which Node.js. */
  readonly buildInfo = new Gauge({
    name: 'joinery_build_info',
    help: 'Always 1: the Joinery version and the Node.js version it runs on',
    labelNames: ['version', 'node_version'] as const,
    registers: [this.registry],
  });

  constructor(options: { readonly processMetrics?: boolean } = {}) {
    this.buildInfo.set({ version: VERSION, node_version: process.version }, 1);
    // The standard names (process_cpu_seconds_total, process_resident_memory_bytes,
    // nodejs_eventloop_lag_seconds...) that dashboards and alerts for any Node.js process use.
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }
}
