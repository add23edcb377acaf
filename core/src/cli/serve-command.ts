import { isIP } from 'node:net';
import type { Command } from 'commander';
import { HOME_NS_ANSWERS } from '../backend-interfaces/home-ns-visibility';
import { SETTINGS } from '../config/config-schema';
import { createLogger } from '../log/logger';
import { parseJoinEUIPrefix } from '../lorawan/join-eui-prefix';
import { ParseError } from '../lorawan/parse-error';
import { formatListenAddress, parseListenAddress } from '../server/listen-address';
import { awaitStore } from '../server/await-store';
import { openBackends } from '../server/open-backends';
import { backendSettings, withBackendOptions, type BackendFlags } from './backend-options';
import { note } from './output';
import { withSettings } from './setting-options';

interface ServeFlags extends BackendFlags {
  readonly biListen: string;
  readonly adminListen: string;
  readonly metricsListen?: string;
  readonly publicHost?: string[];
  readonly usedDevNonces: string;
  readonly sessionHistory: string;
  readonly rejoinsPerHour: string;
  readonly joinEuiPrefix?: string[];
  readonly biClientCertificates: string;
  readonly trustedProxy?: string[];
  readonly clientCertHeader: string;
  readonly homeNsAnswers: string;
  readonly asyncAttempts: string;
  readonly asyncRetryDelay: string;
  readonly logLevel?: string;
  readonly logFormat: string;
  readonly mqttUrl?: string;
  readonly mqttTopicPrefix: string;
  readonly mqttQos: string;
  readonly mqttQueueSize: string;
  readonly claimDeviceBurst: string;
  readonly claimDeviceRefill: string;
  readonly claimTenantBurst: string;
  readonly claimTenantRefill: string;
  readonly claimDeviceCapBurst: string;
  readonly claimDeviceCapRefill: string;
  readonly resumeMigrations: string;
  readonly keyCacheSize: string;
  readonly exitOnStoreFailure: string;
  readonly warmUpMs: string;
}

export function addServeCommand(program: Command): void {
  withBackendOptions(
    withSettings(
      program.command('serve').description('run the Join Server: Backend Interfaces over HTTPS with client certificates, and the admin listener'),
      // Every serve setting comes from the configuration schema: flag, JOINERY_* variable,
      // default and description, and the key of the configuration file (--config).
      SETTINGS.filter((s) => s.scope === 'serve'),
    ),
  ).action(async (flags: ServeFlags) => {
    const biListen = parseListenAddress(flags.biListen, '--bi-listen');
    const adminListen = parseListenAddress(flags.adminListen, '--admin-listen');
    const metricsListen = flags.metricsListen !== undefined ? parseListenAddress(flags.metricsListen, '--metrics-listen') : undefined;
    const usedDevNonces = Number(flags.usedDevNonces);
    if (!Number.isInteger(usedDevNonces) || usedDevNonces < 1 || usedDevNonces > 65536) {
      throw new ParseError('--used-dev-nonces', 'expected an integer 1..65536');
    }
    const sessionHistory = Number(flags.sessionHistory);
    if (!Number.isInteger(sessionHistory) || sessionHistory < 1 || sessionHistory > 1000) {
      throw new ParseError('--session-history', 'expected an integer 1..1000');
    }
    const rejoinsPerHour = boundedInt(flags.rejoinsPerHour, '--rejoins-per-hour', 1, 100_000);
    const servedJoinEUIs = (flags.joinEuiPrefix ?? []).map((p) => parseJoinEUIPrefix(p, '--join-eui-prefix'));
    const homeNSAnswers = HOME_NS_ANSWERS.find((m) => m === flags.homeNsAnswers);
    if (homeNSAnswers === undefined) throw new ParseError('--home-ns-answers', `expected ${HOME_NS_ANSWERS.join(', ')}`);
    const asyncAttempts = boundedInt(flags.asyncAttempts, '--async-attempts', 1, 20);
    const asyncRetryDelay = boundedInt(flags.asyncRetryDelay, '--async-retry-delay', 0, 30_000);
    const trustedProxies = flags.trustedProxy ?? [];
    for (const p of trustedProxies) if (isIP(p.replace(/^\[(.*)\]$/, '$1')) === 0) throw new ParseError('--trusted-proxy', `expected an IP address, got "${p}"`);
    const mqttQos = boundedInt(flags.mqttQos, '--mqtt-qos', 0, 1) as 0 | 1;
    const mqttQueueSize = boundedInt(flags.mqttQueueSize, '--mqtt-queue-size', 1, 1_000_000);
    const claimRateLimits = {
      deviceBurst: boundedInt(flags.claimDeviceBurst, '--claim-device-burst', 1, 1000),
      deviceRefillMs: boundedInt(flags.claimDeviceRefill, '--claim-device-refill', 1, 86_400) * 1000,
      tenantBurst: boundedInt(flags.claimTenantBurst, '--claim-tenant-burst', 1, 100_000),
      tenantRefillMs: boundedInt(flags.claimTenantRefill, '--claim-tenant-refill', 1, 86_400) * 1000,
      deviceCapBurst: boundedInt(flags.claimDeviceCapBurst, '--claim-device-cap-burst', 1, 100_000),
      deviceCapRefillMs: boundedInt(flags.claimDeviceCapRefill, '--claim-device-cap-refill', 1, 86_400) * 1000,
    };
    const logFormat = flags.logFormat === 'json' || flags.logFormat === 'pretty' ? flags.logFormat : 'auto';
    const log = createLogger({ ...(flags.logLevel ? { level: flags.logLevel.toLowerCase() } : {}), format: logFormat });
    const keyCacheSize = boundedInt(flags.keyCacheSize, '--key-cache-size', 0, 10_000_000);
    const exitOnStoreFailure = flags.exitOnStoreFailure === 'on';
    const warmUpMs = boundedInt(flags.warmUpMs, '--warm-up-ms', 0, 60_000);
    const settings = backendSettings(flags);
    // A store that is away at start (a database restarting with its instances) is waited for.
    const opened = await awaitStore(() => openBackends(settings, process.env, { keyCacheSize }), { adminListen, exitOnFailure: exitOnStoreFailure, say: note });
    const backends = opened.value;
    for (const c of backends.created) note(`joinery: created ${c}`);
    let server;
    try {
      // Loaded here, not at start-up: the listeners' code is slow to load and only serve uses it.
      const { startJoinServer } = await import('../server/join-server.js');
      server = await startJoinServer({
        backends,
        biListen,
        adminListen: opened.adminListen,
        ...(metricsListen ? { metricsListen } : {}),
        publicHosts: flags.publicHost ?? [],
        log,
        engine: { usedDevNonces, sessionHistory, rejoinsPerHour },
        backendInterfaces: { servedJoinEUIs, homeNSAnswers },
        warmUp: { maxMs: warmUpMs },
        biTransport: {
          clientCertificates: flags.biClientCertificates === 'optional' ? 'optional' : 'required',
          trustedProxies: trustedProxies.map((p) => p.replace(/^\[(.*)\]$/, '$1')),
          clientCertHeader: flags.clientCertHeader,
        },
        asyncAnswers: { attempts: asyncAttempts, baseDelayMs: asyncRetryDelay },
        claimRateLimits,
        resumeMigrations: flags.resumeMigrations !== 'off',
        ...(flags.mqttUrl ? { joinEvents: { url: flags.mqttUrl, topicPrefix: flags.mqttTopicPrefix, qos: mqttQos, queueSize: mqttQueueSize } } : {}),
      });
    } catch (err) {
      await backends.close();
      throw err;
    }
    // The handlers go in before the server says it is listening: whoever waits for that line
    // (a supervisor, a script, a test) may signal it at once, and must get a graceful stop.
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      note(`joinery: ${signal}: finishing in-flight requests and stopping`);
      server.close().then(
        // The buffered log lines are written before the exit.
        () => flushLog(log).then(() => process.exit(0)),
        (err: unknown) => {
          note(`joinery: error while stopping: ${err instanceof Error ? err.message : String(err)}`);
          void flushLog(log).then(() => process.exit(1));
        },
      );
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    // What the start logged (a migration carried on, say) is on stdout before the server says it listens.
    await flushLog(log);
    for (const c of server.created) note(`joinery: created ${c}`);
    note(`joinery: data directory ${backends.settings.dataDir}`);
    if (server.metricsAddress) note(`joinery: metrics on http://${formatListenAddress(server.metricsAddress)}/metrics`);
    note(`joinery: Backend Interfaces on https://${formatListenAddress(server.biAddress)}/ (client certificate ${flags.biClientCertificates}), admin on http://${formatListenAddress(server.adminAddress)}/`);
    note(`joinery: the console and the admin API take an API key: joinery tenants add --id ops --roles admin prints one (joinery api-keys create --tenant T --scopes S makes more)`);
  });
}

/** Writes the log lines the logger holds; given up after a second, whatever stdout does. */
function flushLog(log: { flush(cb: (err?: Error) => void): void }): Promise<void> {
  return new Promise((resolve) => {
    setTimeout(resolve, 1000).unref();
    log.flush(() => resolve());
  });
}

function boundedInt(value: string, field: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new ParseError(field, `expected an integer ${min}..${max}`);
  return n;
}
