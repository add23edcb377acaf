import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { BackendInterfacesHandler, type BackendInterfacesOptions } from '../backend-interfaces/bi-handler';
import { AsyncAnswerSender } from '../backend-interfaces/async-answer-sender';
import { defaultPublicURL } from './public-url';
import { deviceStateFilter } from '../store/device-state';
import { createBIServer } from '../backend-interfaces/bi-server';
import { AppSKeyService } from '../join/app-s-key-service';
import { JoinEngine, type JoinEngineOptions } from '../join/join-engine';
import type { Logger } from '../log/logger';
import { JoinHistoryRecorder, type JoinHistoryOptions } from '../events/join-history-recorder';
import type { JoinEvent, JoinEventListener } from '../events/join-event';
import { MqttJoinEvents, type MqttJoinEventsOptions } from '../events/mqtt-join-events';
import { instrumented } from '../metrics/instrument';
import { JoineryMetrics } from '../metrics/metrics';
import { loadOrCreateJoinServerClientIdentity } from '../pki/join-server-client-identity';
import { loadOrCreatePKI } from '../pki/pki-files';
import { loadOrCreateTicketKeys, startTicketKeyRotation, ticketKeysFile } from '../pki/session-ticket-keys';
import { createAdminServer } from './admin-server';
import { createMetricsServer } from './metrics-server';
import { ClaimRateLimiter, type ClaimRateLimits } from '../claims/claim-rate-limiter';
import { ClaimService } from '../claims/claim-service';
import { DeviceService } from '../devices/device-service';
import { PeerService } from '../peers/peer-service';
import { TenantService } from '../tenants/tenant-service';
import { formatListenAddress, type ListenAddress } from './listen-address';
import type { Backends } from './open-backends';
import { serverHosts } from './server-hosts';
import { VERSION } from './version';
import { DEFAULT_WARM_UP, warmUp, type WarmUpOptions } from './warm-up';

export interface JoinServerOptions {
  readonly backends: Backends;
  readonly biListen: ListenAddress;
  readonly adminListen: ListenAddress;
  /** A listener serving `/metrics` alone (besides the admin listener's); none when absent. */
  readonly metricsListen?: ListenAddress;
  /** Names and addresses the BI server certificate must cover, besides localhost and 127.0.0.1. */
  readonly publicHosts: readonly string[];
  readonly log: Logger;
  readonly engine?: JoinEngineOptions;
  readonly backendInterfaces?: BackendInterfacesOptions;
  /** Client certificates on the BI listener, and TLS-terminating proxies (see createBIServer). */
  readonly biTransport?: {
    readonly clientCertificates?: 'required' | 'optional';
    readonly trustedProxies?: readonly string[];
    readonly clientCertHeader?: string;
  };
  /** Asynchronous answers: attempts and first retry delay. */
  readonly asyncAnswers?: { readonly attempts?: number; readonly baseDelayMs?: number; readonly windowMs?: number };
  /** The join history's batching (per-device size, flush interval). */
  readonly joinHistory?: JoinHistoryOptions;
  /** Publish join events to an MQTT broker (optional). */
  readonly joinEvents?: MqttJoinEventsOptions;
  /** Wrong owner tokens allowed per device and per tenant (in memory, per instance). */
  readonly claimRateLimits?: ClaimRateLimits;
  /** Carry on, at start, the fleet migrations a stop left unfinished (default: yes). */
  readonly resumeMigrations?: boolean;
  /** Where peers reach the BI listener, for the credential bundles the admin API makes (default https://<first public host or localhost>:<BI port>). */
  readonly publicURL?: string;
  /** Synthetic joins before listening (see warmUp): DEFAULT_WARM_UP's bounds, or these; `maxMs: 0` is none. */
  readonly warmUp?: Partial<WarmUpOptions>;
}

export interface RunningJoinServer {
  /** The BI listener's address as bound (port resolved when 0 was asked). */
  readonly biAddress: ListenAddress;
  readonly adminAddress: ListenAddress;
  /** The metrics listener's address as bound, when there is one. */
  readonly metricsAddress: ListenAddress | null;
  /** What this start created in the data directory (CA, server certificate). */
  readonly created: readonly string[];
  /** Stops accepting, lets in-flight requests finish, then closes the store and the vault. */
  close(): Promise<void>;
}

/** The composition root: PKI, engine, BI listener (HTTPS + mTLS) and admin listener. */
export async function startJoinServer(options: JoinServerOptions): Promise<RunningJoinServer> {
  const { backends, log } = options;
  const hosts = serverHosts(options.publicHosts);
  const pki = await loadOrCreatePKI(backends.settings.dataDir, hosts);
  const created: string[] = [];
  if (pki.created.ca) created.push(`certificate authority ${backends.settings.dataDir}/ca.crt (ca.key mode 0600)`);
  if (pki.created.server) created.push(`server certificate ${backends.settings.dataDir}/server.crt for ${hosts.join(', ')}`);
  // TLS sessions that network servers can resume after a restart (session-ticket-keys.ts).
  const keysFile = ticketKeysFile(backends.settings.dataDir);
  const { ticketKeys, outcome: ticketKeysOutcome } = await loadOrCreateTicketKeys(backends.settings.dataDir);
  if (ticketKeysOutcome.kind === 'created') created.push(`TLS session ticket keys ${keysFile} (mode 0600)`);
  if (ticketKeysOutcome.kind === 'replaced') log.warn({ file: keysFile, reason: ticketKeysOutcome.reason }, 'TLS session ticket key file unusable: replaced with new keys (network servers make one full handshake)');
  if (ticketKeysOutcome.kind === 'unsaved') log.warn({ file: keysFile, err: ticketKeysOutcome.error }, 'TLS session ticket keys cannot be written: sessions will not be resumed after a restart');

  const metrics = new JoineryMetrics();
  metrics.watchKeyCache(() => backends.vault.cachedKeys);
  metrics.watchJoinNonceExhaustion((threshold) => backends.store.countDevices({ joinNonceAbove: threshold }));
  metrics.peers.watch(() => backends.store.listPeers());
  metrics.watchDevicesByState((state) => backends.store.countDevices(deviceStateFilter(state)));
  // Store and vault latencies: the same objects, every call timed (their classes unchanged).
  const store = instrumented(backends.store, metrics.storeLatency);
  const vault = instrumented(backends.vault, metrics.vaultLatency);
  const engine = new JoinEngine(store, vault, options.engine);
  const appSKeys = new AppSKeyService(store, vault);
  const clientIdentity = await loadOrCreateJoinServerClientIdentity(backends.settings.dataDir, pki.ca);
  const asyncAnswers = new AsyncAnswerSender({ clientCertPem: clientIdentity.certPem, clientKeyPem: clientIdentity.keyPem, ...options.asyncAnswers }, log, metrics);
  const joinEvents = options.joinEvents ? new MqttJoinEvents(options.joinEvents, log, metrics) : undefined;
  const joinHistory = new JoinHistoryRecorder(backends.store, options.joinHistory, metrics, log);
  const joinListeners = [options.backendInterfaces?.onJoin, joinHistory.record, joinEvents ? (event: JoinEvent) => joinEvents.publish(event) : undefined].filter((l): l is JoinEventListener => l !== undefined);
  const handler = new BackendInterfacesHandler(store, engine, appSKeys, log, metrics, asyncAnswers, {
    ...options.backendInterfaces,
    onJoin: (event) => {
      for (const listener of joinListeners) listener(event);
    },
  });
  const claims = new ClaimService(store, vault, new ClaimRateLimiter(store, options.claimRateLimits), (reason) => metrics.claimFailures.inc({ reason }));
  const bi = createBIServer({
    handler,
    log,
    tls: { certPem: pki.server.certPem, keyPem: pki.server.keyPem, caPem: pki.ca.certPem, ticketKeys: ticketKeys.keys },
    ...options.biTransport,
    claims: { service: claims, store },
  });
  let publicURL = options.publicURL ?? null;
  const tenants = new TenantService(store);
  const admin = await createAdminServer({ ...backends, store, vault }, metrics, VERSION, {
    context: {
      store,
      tenants,
      devices: new DeviceService(store, vault),
      claims,
      peers: new PeerService(
        store,
        vault,
        async () => pki.ca,
        () => publicURL ?? 'https://localhost:8003',
        backends.settings.dataDir,
      ),
      authenticate: (req) => tenants.authenticate(req.headers.authorization, req.ip),
    },
    log,
    resumeMigrations: options.resumeMigrations ?? true,
    onMigrationError: (id, err) => log.error({ migration: id, err: err instanceof Error ? err.message : String(err) }, 'fleet migration stopped on an error'),
  });

  // The code every join runs, compiled before the first real one (warm-up.ts). A warm-up that
  // fails is logged and the server starts as it would have without it.
  try {
    const warm = await warmUp(backends.vault, pki.ca, pki.server, options.engine, { ...DEFAULT_WARM_UP, ...options.warmUp });
    if (warm.joins > 0) log.info({ joins: warm.joins, ms: Math.round(warm.ms), setupMs: Math.round(warm.setupMs) }, 'warmed up before listening');
  } catch (err) {
    log.warn({ err: err instanceof Error ? err.message : String(err) }, 'warm-up failed; starting without it');
  }
  // The store's threads or connections, open before the first join needs them.
  await store.prepareForJoins();
  try {
    await bi.listen({ host: options.biListen.host, port: options.biListen.port });
  } catch (err) {
    await joinEvents?.close();
    throw err;
  }
  const metricsServer = options.metricsListen ? createMetricsServer(metrics) : null;
  try {
    await admin.listen({ host: options.adminListen.host, port: options.adminListen.port });
    if (metricsServer && options.metricsListen) await metricsServer.listen({ host: options.metricsListen.host, port: options.metricsListen.port });
  } catch (err) {
    await Promise.all([bi.close(), admin.close(), metricsServer?.close()]);
    await joinEvents?.close();
    throw err;
  }
  const boundAddress = (server: typeof bi): ListenAddress => {
    const a = server.server.address() as AddressInfo;
    return { host: a.address, port: a.port };
  };
  const biAddress = boundAddress(bi);
  const stopTicketKeyRotation = startTicketKeyRotation(
    backends.settings.dataDir,
    ticketKeys,
    (keys) => (bi.server as unknown as HttpsServer).setTicketKeys(keys),
    ({ writeError }) =>
      writeError === undefined
        ? log.info({ file: keysFile }, 'TLS session ticket keys replaced (a day old)')
        : log.warn({ file: keysFile, err: writeError }, 'TLS session ticket keys replaced in memory only: the file could not be written (sessions will not resume after a restart)'),
  );
  publicURL ??= defaultPublicURL(options.publicHosts, biAddress.port);
  const adminAddress = boundAddress(admin);
  const metricsAddress = metricsServer ? boundAddress(metricsServer) : null;
  log.info({ bi: formatListenAddress(biAddress), admin: formatListenAddress(adminAddress), ...(metricsAddress ? { metrics: formatListenAddress(metricsAddress) } : {}), version: VERSION }, 'join server listening');

  let closing: Promise<void> | undefined;
  return {
    biAddress,
    adminAddress,
    metricsAddress,
    created,
    close() {
      closing ??= (async () => {
        stopTicketKeyRotation();
        await Promise.all([bi.close(), admin.close(), metricsServer?.close()]);
        // Answers already computed for asynchronous peers still go out (bounded by their window).
        await handler.drain();
        await asyncAnswers.drain();
        await joinEvents?.close();
        await joinHistory.close();
        await backends.close();
        log.info('join server stopped');
      })();
      return closing;
    },
  };
}
