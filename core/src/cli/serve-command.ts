import { isIP } from 'node:net';
import { Option, type Command } from 'commander';
import { createLogger } from '../log/logger';
import { parseJoinEUIPrefix } from '../lorawan/join-eui-prefix';
import { ParseError } from '../lorawan/parse-error';
import { formatListenAddress, parseListenAddress } from '../server/listen-address';
import { openBackends } from '../server/open-backends';
import { backendSettings, withBackendOptions, type BackendFlags } from './backend-options';
import { note } from './output';

interface ServeFlags extends BackendFlags {
  readonly biListen: string;
  readonly adminListen: string;
  readonly publicHost?: string[];
  readonly usedDevNonces: string;
  readonly sessionHistory: string;
  readonly joinEuiPrefix?: string[];
  readonly biClientCertificates: string;
  readonly trustedProxy?: string[];
  readonly clientCertHeader: string;
  readonly asyncAttempts: string;
  readonly asyncRetryDelay: string;
  readonly logLevel?: string;
}

export function addServeCommand(program: Command): void {
  withBackendOptions(
    program
      .command('serve')
      .description('run the Join Server: Backend Interfaces over HTTPS with client certificates, and the admin listener')
      .addOption(new Option('--bi-listen <host:port>', 'Backend Interfaces listener (HTTPS, mTLS)').env('JOINERY_BI_LISTEN').default('127.0.0.1:8003'))
      .addOption(new Option('--admin-listen <host:port>', 'admin listener (HTTP: /healthz, /readyz)').env('JOINERY_ADMIN_LISTEN').default('127.0.0.1:8090'))
      .addOption(
        new Option('--public-host <host...>', 'names or addresses network servers use to reach the BI listener (server certificate SANs)')
          .env('JOINERY_PUBLIC_HOST')
          .argParser(commaList),
      )
      .addOption(new Option('--used-dev-nonces <n>', 'used DevNonces remembered per 1.0.0-1.0.3 device').env('JOINERY_USED_DEV_NONCES').default('64'))
      .addOption(new Option('--session-history <n>', 'issued sessions (AppSKeys for AppSKeyReq) kept per device').env('JOINERY_SESSION_HISTORY').default('10'))
      .addOption(
        new Option('--join-eui-prefix <prefix...>', 'JoinEUI ranges served, e.g. 70b3d57ed0000000/40 (others get UnknownReceiver; default: all)')
          .env('JOINERY_JOIN_EUI_PREFIXES')
          .argParser(commaList),
      )
      .addOption(
        new Option('--bi-client-certificates <mode>', 'required: TLS refuses callers without a client certificate from the CA; optional: also peers on /bi/<name> with their Authorization header, and trusted proxies')
          .env('JOINERY_BI_CLIENT_CERTIFICATES')
          .choices(['required', 'optional'])
          .default('required'),
      )
      .addOption(new Option('--trusted-proxy <address...>', 'TLS-terminating proxies whose client-certificate header is believed').env('JOINERY_TRUSTED_PROXIES').argParser(commaList))
      .addOption(new Option('--client-cert-header <name>', 'the header a trusted proxy puts the client certificate in (PEM, URL-encoded PEM or base64 DER)').env('JOINERY_CLIENT_CERT_HEADER').default('x-client-cert'))
      .addOption(new Option('--async-attempts <n>', 'delivery attempts of an answer to an asynchronous peer').env('JOINERY_ASYNC_ATTEMPTS').default('5'))
      .addOption(new Option('--async-retry-delay <ms>', 'first retry delay of an async answer, doubled each retry (all within 30 s)').env('JOINERY_ASYNC_RETRY_DELAY').default('250'))
      .addOption(new Option('--log-level <level>', 'fatal, error, warn, info, debug or trace').env('JOINERY_LOG_LEVEL')),
  ).action(async (flags: ServeFlags) => {
    const biListen = parseListenAddress(flags.biListen, '--bi-listen');
    const adminListen = parseListenAddress(flags.adminListen, '--admin-listen');
    const usedDevNonces = Number(flags.usedDevNonces);
    if (!Number.isInteger(usedDevNonces) || usedDevNonces < 1 || usedDevNonces > 65536) {
      throw new ParseError('--used-dev-nonces', 'expected an integer 1..65536');
    }
    const sessionHistory = Number(flags.sessionHistory);
    if (!Number.isInteger(sessionHistory) || sessionHistory < 1 || sessionHistory > 1000) {
      throw new ParseError('--session-history', 'expected an integer 1..1000');
    }
    const servedJoinEUIs = (flags.joinEuiPrefix ?? []).map((p) => parseJoinEUIPrefix(p, '--join-eui-prefix'));
    const asyncAttempts = boundedInt(flags.asyncAttempts, '--async-attempts', 1, 20);
    const asyncRetryDelay = boundedInt(flags.asyncRetryDelay, '--async-retry-delay', 0, 30_000);
    const trustedProxies = flags.trustedProxy ?? [];
    for (const p of trustedProxies) if (isIP(p.replace(/^\[(.*)\]$/, '$1')) === 0) throw new ParseError('--trusted-proxy', `expected an IP address, got "${p}"`);
    const log = createLogger({ ...(flags.logLevel ? { level: flags.logLevel } : {}) });
    const backends = await openBackends(backendSettings(flags));
    for (const c of backends.created) note(`joinery: created ${c}`);
    let server;
    try {
      // Loaded here, not at start-up: the listeners' code is slow to load and only serve uses it.
      const { startJoinServer } = await import('../server/join-server.js');
      server = await startJoinServer({ backends, biListen, adminListen, publicHosts: flags.publicHost ?? [], log, engine: { usedDevNonces, sessionHistory }, backendInterfaces: { servedJoinEUIs },
        biTransport: {
          clientCertificates: flags.biClientCertificates === 'optional' ? 'optional' : 'required',
          trustedProxies: trustedProxies.map((p) => p.replace(/^\[(.*)\]$/, '$1')),
          clientCertHeader: flags.clientCertHeader,
        },
        asyncAnswers: { attempts: asyncAttempts, baseDelayMs: asyncRetryDelay },
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
        () => {
          log.flush();
          process.exit(0);
        },
        (err: unknown) => {
          note(`joinery: error while stopping: ${err instanceof Error ? err.message : String(err)}`);
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    for (const c of server.created) note(`joinery: created ${c}`);
    note(`joinery: data directory ${backends.settings.dataDir}`);
    note(`joinery: Backend Interfaces on https://${formatListenAddress(server.biAddress)}/ (client certificate ${flags.biClientCertificates}), admin on http://${formatListenAddress(server.adminAddress)}/`);
  });
}

/** Repeatable flag that also takes comma-separated values (and so does its JOINERY_* variable). */
function commaList(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), ...value.split(',').map((s) => s.trim()).filter(Boolean)];
}

function boundedInt(value: string, field: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new ParseError(field, `expected an integer ${min}..${max}`);
  return n;
}
