import { randomBytes } from 'node:crypto';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { BackendInterfacesHandler } from '../backend-interfaces/bi-handler';
import { createBIServer } from '../backend-interfaces/bi-server';
import { AppSKeyService } from '../join/app-s-key-service';
import { JoinEngine, type JoinEngineOptions } from '../join/join-engine';
import { kekContext } from '../join/vault-contexts';
import type { KeyVault } from '../keys/key-vault';
import { createLogger } from '../log/logger';
import { AES128Key } from '../lorawan/aes128-key';
import { toHex } from '../lorawan/hex';
import { parseEUI64, parseNetID, type EUI64 } from '../lorawan/identifiers';
import { encodeJoinRequest } from '../lorawan/join-request';
import { devNonce } from '../lorawan/nonces';
import { instrumented } from '../metrics/instrument';
import { JoineryMetrics } from '../metrics/metrics';
import type { NetworkServerPeer } from '../peers/peer';
import { DEFAULT_PEER_SETTINGS } from '../peers/peer-settings';
import { issueClientCertificate, type CAMaterial } from '../pki/certificate-authority';
import { SqliteStore } from '../store/sqlite/sqlite-store';
import { OPERATOR_TENANT } from '../tenants/tenant';

/** How long a start may spend warming up, and how many synthetic joins at most. */
export interface WarmUpOptions {
  readonly maxMs: number;
  readonly joins: number;
}

export const DEFAULT_WARM_UP: WarmUpOptions = { maxMs: 1_500, joins: 1_500 };

export interface WarmUpReport {
  readonly joins: number;
  /** The whole warm-up, and of it the setup (canaries, store, listener) before the first join. */
  readonly ms: number;
  readonly setupMs: number;
}

const CANARY = 'warm-up-canary';
const JOIN_EUI = parseEUI64('0000000000000000');
const NET_ID = parseNetID('000000');
/** Canary devices (half 1.0.3, half 1.1) and requests in flight. */
const DEVICES = 16;
const IN_FLIGHT = 8;

/**
 * A new process answers its first joins several times slower than a warm one (V8 compiles the
 * hot path as it runs: 0.27 of the steady rate in the first second, bench/README.md). Before
 * the Join Server says it listens, the same code answers synthetic joins of canary devices that
 * exist nowhere but here: a BI listener of its own on a loopback port (the same TLS setup,
 * direct path and fastify route), a handler and engine over the real key vault, and a SQLite
 * store in memory; then all of it is closed. Nothing reaches the real store, metrics, join events or log. The joins are bounded
 * by `options.maxMs` and `options.joins`, whichever comes first; the setup before them (a
 * client certificate, a store, the canaries' keys sealed) takes a few hundred milliseconds.
 *
 * Only for the software vault: sealing the canaries' keys in a PKCS#11 vault would create
 * objects on the token.
 */
export async function warmUp(vault: KeyVault, ca: CAMaterial, server: { readonly certPem: string; readonly keyPem: string }, engineOptions: JoinEngineOptions | undefined, options: WarmUpOptions): Promise<WarmUpReport> {
  const started = performance.now();
  if (vault.kind !== 'software' || options.joins <= 0 || options.maxMs <= 0) return { joins: 0, ms: 0, setupMs: 0 };
  // In memory: no file, no fsync to wait for (the real store's commit thread is an isolate of
  // its own, which no store here could warm anyway).
  const store = SqliteStore.open(':memory:');
  const quiet = createLogger({ format: 'json', level: 'info', destination: new Writable({ write: (_c, _e, done) => done() }) as unknown as import('pino').DestinationStream });
  let listening: ReturnType<typeof createBIServer> | undefined;
  let agent: https.Agent | undefined;
  try {
    const client = await issueClientCertificate(ca, CANARY, { organizationalUnit: 'network-server' });
    const kek = await vault.generateKey();
    const peer: NetworkServerPeer = {
      kind: 'ns',
      name: CANARY,
      netID: NET_ID,
      nsID: null,
      vendor: 'chirpstack',
      certFingerprint: client.fingerprint,
      certificates: [{ fingerprint: client.fingerprint, issuedAt: new Date(), notAfter: client.notAfter, retiresAt: null }],
      state: 'enabled',
      kekLabel: CANARY,
      sealedKEK: await vault.sealKey(kek, kekContext(CANARY)),
      settings: DEFAULT_PEER_SETTINGS,
      tenantID: OPERATOR_TENANT,
      createdAt: new Date(),
    };
    vault.release(kek);
    await store.insertPeer(peer);
    const devices: { devEUI: EUI64; macVersion: '1.0.3' | '1.1'; micKey: AES128Key; nonce: number }[] = [];
    for (let i = 0; i < DEVICES; i++) {
      const macVersion = i % 2 === 0 ? '1.0.3' : '1.1';
      const appKey = AES128Key.fromBytes(randomBytes(16));
      const nwkKey = AES128Key.fromBytes(randomBytes(16));
      const devEUI = parseEUI64(`ffffffffffff${i.toString(16).padStart(4, '0')}`);
      const sealedRootKeys = await vault.sealRootKeys(macVersion === '1.1' ? { kind: '1.1', appKey, nwkKey } : { kind: 'legacy', appKey }, devEUI);
      await store.insertDevices([{ devEUI, joinEUI: JOIN_EUI, macVersion, sealedRootKeys, vaultKind: vault.kind, nsPeer: CANARY, asPeer: null }]);
      devices.push({ devEUI, macVersion, micKey: macVersion === '1.1' ? nwkKey : appKey, nonce: 0 });
    }
    const metrics = new JoineryMetrics();
    // Wrapped as the composition root wraps the real ones (startJoinServer): the engine's and
    // handler's compiled code is specialised to the objects it meets, and the real server's
    // first joins would throw it away (V8 deoptimises on an object of another shape) were the
    // canaries' store and vault not timed the same way.
    const timedStore = instrumented(store, metrics.storeLatency);
    const timedVault = instrumented(vault, metrics.vaultLatency);
    const engine = new JoinEngine(timedStore, timedVault, engineOptions);
    const handler = new BackendInterfacesHandler(timedStore, engine, new AppSKeyService(timedStore, timedVault), quiet, metrics, undefined, {});
    listening = createBIServer({ handler, log: quiet, tls: { certPem: server.certPem, keyPem: server.keyPem, caPem: ca.certPem } });
    await listening.listen({ host: '127.0.0.1', port: 0 });
    const port = (listening.server.address() as AddressInfo).port;
    agent = new https.Agent({ keepAlive: true, maxSockets: IN_FLIGHT, ca: ca.certPem, cert: client.certPem, key: client.keyPem });
    const setupMs = performance.now() - started;
    const deadline = performance.now() + options.maxMs;
    let sent = 0;
    let answered = 0;
    const worker = async (w: number): Promise<void> => {
      for (let k = 0; sent < options.joins && performance.now() < deadline; k++) {
        const d = devices[(w + IN_FLIGHT * k) % DEVICES]!;
        const phy = encodeJoinRequest({ joinEUI: JOIN_EUI, devEUI: d.devEUI, devNonce: devNonce(++d.nonce) }, d.micKey);
        const body = JSON.stringify({
          ProtocolVersion: '1.0',
          SenderID: NET_ID,
          ReceiverID: JOIN_EUI,
          TransactionID: ++sent,
          MessageType: 'JoinReq',
          MACVersion: d.macVersion,
          PHYPayload: toHex(phy),
          DevEUI: d.devEUI,
          DevAddr: '00000001',
          DLSettings: d.macVersion === '1.1' ? '80' : '00',
          RxDelay: 1,
        });
        if (await post(port, agent!, body)) answered++;
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, (_, w) => worker(w)));
    return { joins: answered, ms: performance.now() - started, setupMs };
  } finally {
    agent?.destroy();
    await listening?.close();
    await store.close();
  }
}

/** One JoinReq; true when it was answered with Success. */
function post(port: number, agent: https.Agent, body: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = https.request({ host: '127.0.0.1', port, path: '/', method: 'POST', agent, servername: 'localhost', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(res.statusCode === 200 && Buffer.concat(chunks).includes('"ResultCode":"Success"')));
      res.on('error', () => resolve(false));
    });
    req.on('error', () => resolve(false));
    req.end(body);
  });
}
