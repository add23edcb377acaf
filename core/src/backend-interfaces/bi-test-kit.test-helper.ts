import { randomBytes, randomInt } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import type { DeviceKeys } from '../../../test/src/support/lora-device';
export { openEnvelope } from '../../../test/src/support/network-server';
import type { JoinEvent } from '../events/join-event';
import { AppSKeyService } from '../join/app-s-key-service';
import { JoinEngine, type JoinEngineOptions } from '../join/join-engine';
import { kekContext } from '../join/vault-contexts';
import { MasterKey } from '../keys/master-key';
import { SoftwareKeyVault } from '../keys/software-vault';
import { createLogger } from '../log/logger';
import { AES128Key } from '../lorawan/aes128-key';
import { parseEUI64, parseNetID } from '../lorawan/identifiers';
import { parseMACVersion } from '../lorawan/mac-version';
import { JoineryMetrics } from '../metrics/metrics';
import type { ApplicationServerPeer, NetworkServerPeer, Peer } from '../peers/peer';
import { firstCertificate } from '../peers/peer-certificates';
import { DEFAULT_PEER_SETTINGS } from '../peers/peer-settings';
import type { Vendor } from '../peers/vendor';
import { SqliteStore } from '../store/sqlite/sqlite-store';
import { OPERATOR_TENANT } from '../tenants/tenant';
import { BackendInterfacesHandler, type BackendInterfacesOptions, type BIReply } from './bi-handler';

/**
 * An in-process Join Server for table tests: the real handler and engine on a SQLite store in a
 * temporary directory and the software key vault, peers whose KEKs the test holds, its log lines,
 * metrics and join events. Test support only (no jest here).
 */

/** A registered peer as its operator holds it: its certificate's fingerprint and its KEK in clear. */
export interface KitPeer {
  readonly peer: Peer;
  readonly fingerprint: string;
  readonly kekLabel: string;
  readonly kek: Buffer;
}

export interface KitOptions extends Omit<BackendInterfacesOptions, 'onJoin'> {
  readonly engine?: JoinEngineOptions;
}

export class BIKit {
  readonly events: JoinEvent[] = [];
  private logText = '';

  private constructor(
    readonly dir: string,
    readonly store: SqliteStore,
    readonly vault: SoftwareKeyVault,
    readonly engine: JoinEngine,
    readonly metrics: JoineryMetrics,
    readonly handler: BackendInterfacesHandler,
  ) {}

  static async open(options: KitOptions = {}): Promise<BIKit> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'joinery-bi-'));
    const store = SqliteStore.open(path.join(dir, 'joinery.db'));
    const vault = new SoftwareKeyVault(MasterKey.generate());
    const engine = new JoinEngine(store, vault, options.engine);
    const metrics = new JoineryMetrics({ processMetrics: false });
    // Declared before the log destination that writes into it, assigned once the handler exists.
    // eslint-disable-next-line prefer-const
    let kit: BIKit | undefined;
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        if (kit) kit.logText += chunk.toString();
        done();
      },
    });
    const log = createLogger({ level: 'info', format: 'json', destination });
    const { engine: _engine, ...handlerOptions } = options;
    const handler = new BackendInterfacesHandler(store, engine, new AppSKeyService(store, vault), log, metrics, undefined, {
      ...handlerOptions,
      onJoin: (event) => kit?.events.push(event),
    });
    kit = new BIKit(dir, store, vault, engine, metrics, handler);
    return kit;
  }

  async close(): Promise<void> {
    await this.store.close();
    await fs.rm(this.dir, { recursive: true, force: true });
  }

  /** The log lines written so far, parsed. */
  logLines(): Record<string, unknown>[] {
    return this.logText
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  metricsText(): Promise<string> {
    return this.metrics.registry.metrics();
  }

  async addNetworkServer(name: string, o: { netID: string; nsID?: string; vendor?: Vendor }): Promise<KitPeer> {
    return this.addPeer(name, (base) => ({ ...base, kind: 'ns', netID: parseNetID(o.netID), nsID: o.nsID ? parseEUI64(o.nsID) : null, vendor: o.vendor ?? 'generic' }) satisfies NetworkServerPeer);
  }

  async addApplicationServer(name: string, asID: string): Promise<KitPeer> {
    return this.addPeer(name, (base) => ({ ...base, kind: 'as', asID }) satisfies ApplicationServerPeer);
  }

  private async addPeer(name: string, make: (base: Omit<NetworkServerPeer, 'kind' | 'netID' | 'nsID' | 'vendor'>) => Peer): Promise<KitPeer> {
    const fingerprint = randomBytes(32).toString('hex');
    const kek = randomBytes(16);
    const kekLabel = `kek-${name}`;
    const peer = make({
      name,
      certFingerprint: fingerprint,
      certificates: firstCertificate(fingerprint, new Date(), null),
      state: 'enabled',
      tenantID: OPERATOR_TENANT,
      kekLabel,
      sealedKEK: await this.vault.sealKey(await this.vault.importKey(AES128Key.fromBytes(kek)), kekContext(name)),
      settings: DEFAULT_PEER_SETTINGS,
      createdAt: new Date(),
    });
    await this.store.insertPeer(peer);
    return { peer, fingerprint, kekLabel, kek };
  }

  /** Devices as the operator's own (claimed), bound to network server `ns` (and application server `as`). */
  async addDevices(devices: readonly DeviceKeys[], ns: string | null, as: string | null = null): Promise<void> {
    const rows = [];
    for (const d of devices) {
      const devEUI = parseEUI64(d.devEUI);
      const keys = d.nwkKey ? { kind: '1.1' as const, appKey: AES128Key.fromHex(d.appKey), nwkKey: AES128Key.fromHex(d.nwkKey) } : { kind: 'legacy' as const, appKey: AES128Key.fromHex(d.appKey) };
      rows.push({ devEUI, joinEUI: parseEUI64(d.joinEUI), macVersion: parseMACVersion(d.macVersion), sealedRootKeys: await this.vault.sealRootKeys(keys, devEUI), vaultKind: this.vault.kind, nsPeer: ns, asPeer: as });
    }
    await this.store.insertDevices(rows);
  }

  /** The handler's reply to a message from `from` (identified by its certificate). */
  reply(message: Record<string, unknown>, from: KitPeer): Promise<BIReply> {
    return this.handler.handle(JSON.parse(JSON.stringify(message)) as Record<string, unknown>, { certFingerprint: from.fingerprint, pathPeer: null, authorization: undefined });
  }

  /** The BI answer to a message from `from`; a message that is acknowledged or refused at HTTP level fails the test. */
  async send(message: Record<string, unknown>, from: KitPeer): Promise<Record<string, any>> {
    const reply = await this.reply(message, from);
    if (reply.kind !== 'answer') throw new Error(`expected a BI answer, got ${reply.kind}`);
    return reply.answer;
  }
}

/** A JoinReq (or RejoinReq) as a generic network server sends it; `extra` overrides or adds fields. */
export function joinReqMessage(d: DeviceKeys, phyPayload: Buffer, o: { senderID: string; messageType?: 'JoinReq' | 'RejoinReq'; extra?: Record<string, unknown> }): Record<string, unknown> {
  return {
    ProtocolVersion: '1.0',
    SenderID: o.senderID,
    ReceiverID: d.joinEUI,
    TransactionID: randomInt(1, 2 ** 31),
    MessageType: o.messageType ?? 'JoinReq',
    MACVersion: d.macVersion,
    PHYPayload: phyPayload.toString('hex'),
    DevEUI: d.devEUI,
    DevAddr: '26011234',
    DLSettings: d.nwkKey ? '80' : '00',
    RxDelay: 1,
    ...o.extra,
  };
}

/** The KEK of a peer, as openEnvelope (test/src/support/network-server.ts: node's OpenSSL, not Joinery's key-wrap code) takes it. */
export function kekOf(p: KitPeer): { label: string; key: Buffer } {
  return { label: p.kekLabel, key: p.kek };
}
