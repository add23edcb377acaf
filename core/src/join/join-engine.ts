import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { KeyHandle, KeyVault, RootKeyHandles } from '../keys/key-vault';
import { jsKeyBlock, sessionKeyBlock10, sessionKeyBlock11 } from '../lorawan/derivation';
import { FrameError } from '../lorawan/frame-error';
import type { EUI64, NetID } from '../lorawan/identifiers';
import { DL_SETTINGS_OPT_NEG, encodeJoinAcceptPlain, joinAcceptMICInput11, type JoinAcceptFields } from '../lorawan/join-accept';
import { decodeJoinRequest, joinRequestMICInput, type JoinRequest } from '../lorawan/join-request';
import { isLegacy } from '../lorawan/mac-version';
import type { DevNonce, JoinNonce } from '../lorawan/nonces';
import type { NetworkServerPeer } from '../peers/peer';
import { dialectOf } from '../peers/vendor-dialect';
import type { Device } from '../store/device';
import type { Store } from '../store/store';
import { acceptDevNonce, DEFAULT_USED_DEV_NONCES } from './dev-nonce-policy';
import { failure, type Failure } from './failure';
import type { JoinAnswer, NetworkKeys } from './join-answer';
import type { JoinRequestInput } from './join-request-input';
import type { KeyEnvelope } from './key-envelope';
import { nextJoinNonce } from './next-join-nonce';
import { appSKeyContext, kekContext } from './vault-contexts';

export interface JoinEngineOptions {
  /** How many used DevNonces a 1.0.0-1.0.3 device remembers (default 64). */
  readonly usedDevNonces?: number;
  /** How many issued sessions (for AppSKeyReq) a device keeps (default 10). */
  readonly sessionHistory?: number;
  /** Optimistic-concurrency retries of the nonce commit before answering `Other`. */
  readonly maxCommitAttempts?: number;
}

const JOIN_REQUEST_TYPE = 0xff;
const JOIN_ACCEPT_MHDR = 0x20;

/**
 * The join engine: from a parsed JoinReq and the network server that sent it, to a join-accept
 * and wrapped session keys, or a refusal. Root keys are used only through the key vault; the
 * nonce state changes in one conditional, durable write before any session key exists.
 */
export class JoinEngine {
  private readonly usedDevNonces: number;
  private readonly sessionHistory: number;
  private readonly maxCommitAttempts: number;

  constructor(
    private readonly store: Store,
    private readonly vault: KeyVault,
    options: JoinEngineOptions = {},
  ) {
    this.usedDevNonces = options.usedDevNonces ?? DEFAULT_USED_DEV_NONCES;
    this.sessionHistory = options.sessionHistory ?? 10;
    this.maxCommitAttempts = options.maxCommitAttempts ?? 64;
  }

  async join(input: JoinRequestInput, peer: NetworkServerPeer): Promise<JoinAnswer | Failure> {
    let frame: JoinRequest;
    try {
      frame = decodeJoinRequest(input.phyPayload);
    } catch (err) {
      if (err instanceof FrameError) {
        return failure(err.code === 'FrameSize' ? 'FrameSize' : 'Malformed', `PHYPayload is not a join-request: ${err.message}`);
      }
      throw err;
    }
    if (frame.devEUI !== input.devEUI) {
      return failure('Malformed', `DevEUI ${input.devEUI} does not match the join-request's DevEUI ${frame.devEUI}`);
    }
    if (frame.joinEUI !== input.receiverJoinEUI) {
      return failure('UnknownReceiver', `ReceiverID ${input.receiverJoinEUI} is not the join-request's JoinEUI ${frame.joinEUI}`);
    }

    let device = await this.store.getDevice(frame.devEUI);
    if (!device || device.joinEUI !== frame.joinEUI) {
      return failure('UnknownDevEUI', `no device ${frame.devEUI} with JoinEUI ${frame.joinEUI}`);
    }
    if (device.nsPeer !== peer.name) {
      return failure('NotBound', `device ${frame.devEUI} is not bound to network server ${peer.name}`);
    }

    const root = await this.vault.openRootKeys(device.sealedRootKeys, device.devEUI);
    const temporaries: KeyHandle[] = [];
    try {
      // A 1.1 device MICs its join-request with NwkKey, a 1.0.x device with its only root key.
      const micKey = root.kind === '1.1' ? root.nwkKey : root.appKey;
      const tag = await this.vault.cmac(micKey, joinRequestMICInput(input.phyPayload));
      if (!timingSafeEqual(tag.subarray(0, 4), frame.mic)) {
        return failure('MICFailed', 'join-request MIC does not verify');
      }

      // The nonce check-and-update: decide on the state read, write only if nobody else wrote
      // in between (version check), else read again and decide again.
      let joinNonce: JoinNonce | undefined;
      for (let attempt = 0; joinNonce === undefined; attempt++) {
        if (attempt >= this.maxCommitAttempts) {
          return failure('Contention', `too many concurrent joins for device ${frame.devEUI}; retry`);
        }
        if (attempt > 0) {
          const reread = await this.store.getDevice(frame.devEUI);
          if (!reread || reread.nsPeer !== peer.name) return failure('NotBound', `device ${frame.devEUI} is no longer bound to ${peer.name}`);
          device = reread;
        }
        const nonce = acceptDevNonce(device.macVersion, device.nonces, frame.devNonce, this.usedDevNonces);
        if (!nonce.ok) return nonce;
        const next = nextJoinNonce(device.nonces.lastJoinNonce);
        if (!next.ok) return next;
        const committed = await this.store.commitJoin({
          devEUI: device.devEUI,
          expectedVersion: device.version,
          nonces: { ...device.nonces, ...nonce.next, lastJoinNonce: next.joinNonce },
          joinedAt: new Date(),
          peer: peer.name,
        });
        if (committed) joinNonce = next.joinNonce;
      }

      return await this.accept(input, peer, device, frame, root, joinNonce, temporaries);
    } finally {
      this.vault.release(...temporaries);
    }
  }

  private async accept(
    input: JoinRequestInput,
    peer: NetworkServerPeer,
    device: Device,
    frame: JoinRequest,
    root: RootKeyHandles,
    joinNonce: JoinNonce,
    temporaries: KeyHandle[],
  ): Promise<JoinAnswer> {
    const vault = this.vault;
    const derive = async (key: KeyHandle, block: Buffer): Promise<KeyHandle> => {
      const derived = await vault.deriveKey(key, block);
      temporaries.push(derived);
      return derived;
    };
    // OptNeg: only a 1.1 device, and only when the network server asked for it. A 1.0.x
    // device gets the bit cleared whatever the network server set (it is RFU there).
    const optNeg = root.kind === '1.1' && !isLegacy(device.macVersion) && (input.dlSettings & DL_SETTINGS_OPT_NEG) !== 0;
    const fields: JoinAcceptFields = {
      joinNonce,
      netID: peer.netID,
      devAddr: input.devAddr,
      dlSettings: optNeg ? input.dlSettings | DL_SETTINGS_OPT_NEG : input.dlSettings & ~DL_SETTINGS_OPT_NEG & 0xff,
      rxDelay: input.rxDelay,
      ...(input.cfList ? { cfList: input.cfList } : {}),
    };
    const plain = encodeJoinAcceptPlain(fields);
    // Without OptNeg a 1.1 device uses NwkKey as the root of everything (1.0 formulas).
    const legacyRoot = root.kind === '1.1' ? root.nwkKey : root.appKey;

    let mic: Buffer;
    let sessionKeys: { network: NetworkKeyHandles; appSKey: KeyHandle };
    if (optNeg && root.kind === '1.1') {
      const jsIntKey = await derive(root.nwkKey, jsKeyBlock(0x06, device.devEUI));
      mic = await vault.cmac(jsIntKey, joinAcceptMICInput11(JOIN_REQUEST_TYPE, frame.joinEUI, frame.devNonce, plain));
      sessionKeys = await derive11(derive, root.nwkKey, root.appKey, joinNonce, frame.joinEUI, frame.devNonce);
    } else {
      mic = await vault.cmac(legacyRoot, plain);
      sessionKeys = await derive10(derive, legacyRoot, joinNonce, peer.netID, frame.devNonce);
    }
    const encrypted = await vault.decryptBlocks(
      legacyRoot,
      Buffer.concat([plain.subarray(1), mic.subarray(0, 4)]),
    );
    const phyPayload = Buffer.concat([Buffer.of(JOIN_ACCEPT_MHDR), encrypted]);

    const nsKEK = await this.openKEK(peer.sealedKEK, peer.name);
    temporaries.push(nsKEK);
    const wrapForNS = async (key: KeyHandle): Promise<KeyEnvelope> => ({
      kekLabel: peer.kekLabel,
      aesKey: await vault.wrapKey(key, nsKEK),
    });
    const networkKeys: NetworkKeys =
      sessionKeys.network.kind === '1.1'
        ? {
            kind: '1.1',
            fNwkSIntKey: await wrapForNS(sessionKeys.network.fNwkSIntKey),
            sNwkSIntKey: await wrapForNS(sessionKeys.network.sNwkSIntKey),
            nwkSEncKey: await wrapForNS(sessionKeys.network.nwkSEncKey),
          }
        : { kind: 'legacy', nwkSKey: await wrapForNS(sessionKeys.network.nwkSKey) };

    const { appSKey, sessionKeyID } = await this.appSKeyEnvelope(device, peer, sessionKeys.appSKey, wrapForNS, temporaries);
    if (sessionKeyID !== undefined) {
      await this.store.addSession(
        {
          devEUI: device.devEUI,
          sessionKeyID,
          joinNonce,
          nsPeer: peer.name,
          asPeer: device.asPeer,
          sealedAppSKey: await vault.sealKey(sessionKeys.appSKey, appSKeyContext(device.devEUI, sessionKeyID)),
          createdAt: new Date(),
        },
        this.sessionHistory,
      );
    }
    return {
      ok: true,
      phyPayload,
      networkKeys,
      legacyKeysAs11: networkKeys.kind === 'legacy' && !isLegacy(input.macVersion),
      appSKey,
      sessionKeyID,
      joinNonce,
      devNonce: frame.devNonce,
      optNeg,
    };
  }

  /**
   * Where the AppSKey goes: to the device's own application server (wrapped under its KEK, with a
   * SessionKeyID), or, without one, as the network server's vendor dialect needs it.
   */
  private async appSKeyEnvelope(
    device: Device,
    peer: NetworkServerPeer,
    appSKey: KeyHandle,
    wrapForNS: (key: KeyHandle) => Promise<KeyEnvelope>,
    temporaries: KeyHandle[],
  ): Promise<{ appSKey: KeyEnvelope; sessionKeyID: string | undefined }> {
    const sessionKeyID = randomBytes(16).toString('hex');
    if (device.asPeer !== null) {
      const as = await this.store.getPeer(device.asPeer);
      if (as && as.kind === 'as') {
        const asKEK = await this.openKEK(as.sealedKEK, as.name);
        temporaries.push(asKEK);
        return { appSKey: { kekLabel: as.kekLabel, aesKey: await this.vault.wrapKey(appSKey, asKEK) }, sessionKeyID };
      }
    }
    const dialect = dialectOf(peer.vendor);
    const envelope =
      dialect.appSKeyWithoutAS === 'clear'
        ? { kekLabel: '', aesKey: Buffer.from((await this.vault.exportKey(appSKey)).unsafeBytes()) }
        : await wrapForNS(appSKey);
    return { appSKey: envelope, sessionKeyID: dialect.sessionKeyID === 'always' ? sessionKeyID : undefined };
  }

  private openKEK(sealed: Buffer, peerName: string): Promise<KeyHandle> {
    return this.vault.openKey(sealed, kekContext(peerName));
  }
}

type NetworkKeyHandles =
  | { readonly kind: 'legacy'; readonly nwkSKey: KeyHandle }
  | { readonly kind: '1.1'; readonly fNwkSIntKey: KeyHandle; readonly sNwkSIntKey: KeyHandle; readonly nwkSEncKey: KeyHandle };

type Derive = (key: KeyHandle, block: Buffer) => Promise<KeyHandle>;

/** 1.0.x (and 1.1 without OptNeg, with NwkKey as root): NwkSKey and AppSKey from one root key. */
async function derive10(derive: Derive, root: KeyHandle, joinNonce: JoinNonce, netID: NetID, devNonce: DevNonce) {
  const nwkSKey = await derive(root, sessionKeyBlock10(0x01, joinNonce, netID, devNonce));
  const appSKey = await derive(root, sessionKeyBlock10(0x02, joinNonce, netID, devNonce));
  return { network: { kind: 'legacy' as const, nwkSKey }, appSKey };
}

/** 1.1 with OptNeg: three network keys from NwkKey, AppSKey from AppKey, keyed by JoinEUI. */
async function derive11(derive: Derive, nwkKey: KeyHandle, appKey: KeyHandle, joinNonce: JoinNonce, joinEUI: EUI64, devNonce: DevNonce) {
  const fNwkSIntKey = await derive(nwkKey, sessionKeyBlock11(0x01, joinNonce, joinEUI, devNonce));
  const appSKey = await derive(appKey, sessionKeyBlock11(0x02, joinNonce, joinEUI, devNonce));
  const sNwkSIntKey = await derive(nwkKey, sessionKeyBlock11(0x03, joinNonce, joinEUI, devNonce));
  const nwkSEncKey = await derive(nwkKey, sessionKeyBlock11(0x04, joinNonce, joinEUI, devNonce));
  return { network: { kind: '1.1' as const, fNwkSIntKey, sNwkSIntKey, nwkSEncKey }, appSKey };
}
