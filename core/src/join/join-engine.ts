import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { KeyHandle, KeyVault, RootKeyHandles } from '../keys/key-vault';
import { jsKeyBlock, sessionKeyBlock10, sessionKeyBlock11 } from '../lorawan/derivation';
import { FrameError } from '../lorawan/frame-error';
import type { EUI64, NetID } from '../lorawan/identifiers';
import { DL_SETTINGS_OPT_NEG, encodeJoinAcceptPlain, joinAcceptMICInput11, type JoinAcceptFields } from '../lorawan/join-accept';
import { decodeJoinRequest, joinRequestMICInput } from '../lorawan/join-request';
import { isLegacy } from '../lorawan/mac-version';
import type { DevNonce, JoinNonce } from '../lorawan/nonces';
import { decodeRejoinRequest, rejoinRequestMICInput, type RejoinRequest } from '../lorawan/rejoin-request';
import type { NetworkServerPeer } from '../peers/peer';
import { dialectOf } from '../peers/vendor-dialect';
import { mayJoinThrough, type Device, type NonceState } from '../store/device';
import type { Store } from '../store/store';
import { acceptDevNonce, DEFAULT_USED_DEV_NONCES } from './dev-nonce-policy';
import { failure, type Failure } from './failure';
import type { JoinAnswer, NetworkKeys } from './join-answer';
import type { JoinRequestInput } from './join-request-input';
import type { KeyEnvelope } from './key-envelope';
import { nextJoinNonce } from './next-join-nonce';
import { countRejoin, DEFAULT_REJOINS_PER_HOUR } from './rejoin-rate-bound';
import { appSKeyContext, kekContext } from './vault-contexts';

export interface JoinEngineOptions {
  /** How many used DevNonces a 1.0.0-1.0.3 device remembers (default 64). */
  readonly usedDevNonces?: number;
  /** How many issued sessions (for AppSKeyReq) a device keeps (default 10). */
  readonly sessionHistory?: number;
  /** Optimistic-concurrency retries of the nonce commit before answering `Other`. */
  readonly maxCommitAttempts?: number;
  /** Rejoin-requests accepted per device per hour (default 10; see rejoin-rate-bound.ts). */
  readonly rejoinsPerHour?: number;
}

/** JoinReqType of the 1.1 join-accept MIC: 0xFF answering a join-request, else the rejoin type. */
type JoinReqType = 0xff | 0 | 1 | 2;

const JOIN_ACCEPT_MHDR = 0x20;

/**
 * What differs between answering a join-request and answering a rejoin-request; the rest (the
 * device, the binding, the nonce commit, the join-accept and the keys) is one path.
 */
/**
 * Told the device a join-request or rejoin-request is for, once it is found (under the
 * request's JoinEUI), whatever the outcome: the join event's tenant is its owner's.
 */
export type DeviceFound = (device: Device) => void;

interface Activation {
  readonly joinReqType: JoinReqType;
  readonly devEUI: EUI64;
  /** The JoinEUI the request names (a rejoin type 0/2 names none: the device's is used). */
  readonly joinEUI: EUI64 | undefined;
  /** DevNonce, or the rejoin's RJcount0/RJcount1 in its place. */
  readonly counter: DevNonce;
  /** Checks the request's MIC with the device's root keys; false = MICFailed. Absent: the NS checked it. */
  readonly verifyMIC: ((root: RootKeyHandles, derive: Derive) => Promise<boolean>) | undefined;
  /**
   * The nonce state to write if the request is accepted. The engine adds the JoinNonce, counts a
   * rejoin in the rate window, and restarts RJcount0 (null) unless this sets it.
   */
  readonly nextNonces: (device: Device) => { readonly ok: true; readonly next: Partial<NonceState> } | Failure;
}

/**
 * The join engine: from a parsed JoinReq or RejoinReq and the network server that sent it, to a
 * join-accept and wrapped session keys, or a refusal. Root keys are used only through the key
 * vault; the nonce state changes in one conditional, durable write before any session key exists.
 */
export class JoinEngine {
  private readonly usedDevNonces: number;
  private readonly sessionHistory: number;
  private readonly maxCommitAttempts: number;
  private readonly rejoinsPerHour: number;

  constructor(
    private readonly store: Store,
    private readonly vault: KeyVault,
    options: JoinEngineOptions = {},
  ) {
    this.usedDevNonces = options.usedDevNonces ?? DEFAULT_USED_DEV_NONCES;
    this.sessionHistory = options.sessionHistory ?? 10;
    this.maxCommitAttempts = options.maxCommitAttempts ?? 64;
    this.rejoinsPerHour = options.rejoinsPerHour ?? DEFAULT_REJOINS_PER_HOUR;
  }

  /** JoinReq: a join-request (any MAC version). */
  async join(input: JoinRequestInput, peer: NetworkServerPeer, onDevice?: DeviceFound): Promise<JoinAnswer | Failure> {
    let frame;
    try {
      frame = decodeJoinRequest(input.phyPayload);
    } catch (err) {
      return frameFailure(err, 'join-request');
    }
    const usedLimit = this.usedDevNonces;
    return this.activate(input, peer, onDevice, {
      joinReqType: 0xff,
      devEUI: frame.devEUI,
      joinEUI: frame.joinEUI,
      counter: frame.devNonce,
      // A 1.1 device MICs its join-request with NwkKey, a 1.0.x device with its only root key.
      verifyMIC: async (root) => {
        const tag = await this.vault.cmac(root.kind === '1.1' ? root.nwkKey : root.appKey, joinRequestMICInput(input.phyPayload));
        return timingSafeEqual(tag.subarray(0, 4), frame.mic);
      },
      nextNonces: (device) => acceptDevNonce(device.macVersion, device.nonces, frame.devNonce, usedLimit),
    });
  }

  /**
   * RejoinReq: a LoRaWAN 1.1 rejoin-request. Type 1 is MIC'd with JSIntKey and checked here; its
   * RJcount1 must be greater than the last accepted one (kept for the device's lifetime, never
   * reset by a join). Types 0 and 2 are MIC'd with SNwkSIntKey, which only the network server
   * has: it checked the MIC before forwarding; here their NetID must be the network server's,
   * and RJcount0 must be greater than the last one accepted since the device's last
   * join-accept (the device restarts it at each), so a forwarded frame is never accepted
   * twice. Every accepted rejoin gets a fresh JoinNonce, so no answer repeats; the rejoins
   * accepted per device are bounded (rejoin-rate-bound.ts).
   */
  async rejoin(input: JoinRequestInput, peer: NetworkServerPeer, onDevice?: DeviceFound): Promise<JoinAnswer | Failure> {
    let frame: RejoinRequest;
    try {
      frame = decodeRejoinRequest(input.phyPayload);
    } catch (err) {
      return frameFailure(err, 'rejoin-request');
    }
    if (frame.rejoinType === 1) {
      const type1 = frame;
      return this.activate(input, peer, onDevice, {
        joinReqType: 1,
        devEUI: type1.devEUI,
        joinEUI: type1.joinEUI,
        counter: type1.rjCount1,
        verifyMIC: async (root, derive) => {
          if (root.kind !== '1.1') return false;
          const jsIntKey = await derive(root.nwkKey, jsKeyBlock(0x06, type1.devEUI));
          const tag = await this.vault.cmac(jsIntKey, rejoinRequestMICInput(input.phyPayload));
          return timingSafeEqual(tag.subarray(0, 4), type1.mic);
        },
        nextNonces: (device) =>
          device.nonces.lastRJCount1 !== null && type1.rjCount1 <= device.nonces.lastRJCount1
            ? failure('RJCountReplayed', `RJcount1 ${type1.rjCount1} is not greater than the last accepted RJcount1 ${device.nonces.lastRJCount1}`)
            : { ok: true, next: { lastRJCount1: type1.rjCount1 } },
      });
    }
    const type02 = frame;
    if (type02.netID !== peer.netID) {
      return failure('RejoinNetIDMismatch', `rejoin-request type ${type02.rejoinType} names NetID ${type02.netID}, not the NetID ${peer.netID} of network server ${peer.name}`);
    }
    return this.activate(input, peer, onDevice, {
      joinReqType: type02.rejoinType,
      devEUI: type02.devEUI,
      joinEUI: undefined,
      counter: type02.rjCount0,
      verifyMIC: undefined,
      nextNonces: (device) =>
        device.nonces.lastRJCount0 !== null && type02.rjCount0 <= device.nonces.lastRJCount0
          ? failure('RJCountReplayed', `RJcount0 ${type02.rjCount0} is not greater than the last RJcount0 ${device.nonces.lastRJCount0} accepted since the device's last join-accept`)
          : { ok: true, next: { lastRJCount0: type02.rjCount0 } },
    });
  }

  private async activate(input: JoinRequestInput, peer: NetworkServerPeer, onDevice: DeviceFound | undefined, activation: Activation): Promise<JoinAnswer | Failure> {
    const what = activation.joinReqType === 0xff ? 'join-request' : `rejoin-request type ${activation.joinReqType}`;
    if (activation.devEUI !== input.devEUI) {
      return failure('Malformed', `DevEUI ${input.devEUI} does not match the ${what}'s DevEUI ${activation.devEUI}`);
    }
    const receiver = activation.joinEUI ?? input.receiverJoinEUI;
    if (receiver !== input.receiverJoinEUI) {
      return failure('UnknownReceiver', `ReceiverID ${input.receiverJoinEUI} is not the ${what}'s JoinEUI ${receiver}`);
    }

    let device = await this.store.getDevice(activation.devEUI);
    if (!device || device.joinEUI !== receiver) {
      return failure('UnknownDevEUI', `no device ${activation.devEUI} with JoinEUI ${receiver}`);
    }
    onDevice?.(device);
    if (device.ownership.owner === null) {
      return failure('NotBound', `device ${activation.devEUI} is not claimed: its owner must claim it and bind it to a network server`);
    }
    if (!mayJoinThrough(device, peer.name)) {
      return failure('NotBound', `device ${activation.devEUI} is not bound to network server ${peer.name}`);
    }
    if (activation.joinReqType !== 0xff && isLegacy(device.macVersion)) {
      return failure('RejoinNotSupported', `device ${activation.devEUI} is LoRaWAN ${device.macVersion}: rejoin-requests are LoRaWAN 1.1`);
    }

    const root = await this.vault.openRootKeys(device.sealedRootKeys, device.devEUI);
    const temporaries: KeyHandle[] = [];
    const derive: Derive = async (key, block) => {
      const derived = await this.vault.deriveKey(key, block);
      temporaries.push(derived);
      return derived;
    };
    try {
      if (activation.verifyMIC && !(await activation.verifyMIC(root, derive))) {
        return failure('MICFailed', `${what} MIC does not verify`);
      }

      // The nonce check-and-update: decide on the state read, write only if nobody else wrote
      // in between (version check), else read again and decide again.
      let joinNonce: JoinNonce | undefined;
      for (let attempt = 0; joinNonce === undefined; attempt++) {
        if (attempt >= this.maxCommitAttempts) {
          return failure('Contention', `too many concurrent requests for device ${activation.devEUI}; retry`);
        }
        if (attempt > 0) {
          const reread = await this.store.getDevice(activation.devEUI);
          if (!reread || reread.ownership.owner === null || !mayJoinThrough(reread, peer.name)) return failure('NotBound', `device ${activation.devEUI} is no longer bound to ${peer.name}`);
          device = reread;
        }
        const nonces = activation.nextNonces(device);
        if (!nonces.ok) return nonces;
        const now = new Date();
        const rejoins = activation.joinReqType === 0xff ? { ok: true as const, window: device.nonces.rejoinWindow } : countRejoin(device.nonces.rejoinWindow, now, this.rejoinsPerHour);
        if (!rejoins.ok) return rejoins;
        const next = nextJoinNonce(device.nonces.lastJoinNonce);
        if (!next.ok) return next;
        const committed = await this.store.commitJoin({
          devEUI: device.devEUI,
          expectedVersion: device.version,
          nonces: { ...device.nonces, lastRJCount0: null, ...nonces.next, rejoinWindow: rejoins.window, lastJoinNonce: next.joinNonce },
          joinedAt: now,
          peer: peer.name,
        });
        if (committed) joinNonce = next.joinNonce;
      }

      return await this.accept(input, peer, device, activation, root, joinNonce, derive, temporaries);
    } finally {
      this.vault.release(...temporaries);
    }
  }

  private async accept(
    input: JoinRequestInput,
    peer: NetworkServerPeer,
    device: Device,
    activation: Activation,
    root: RootKeyHandles,
    joinNonce: JoinNonce,
    derive: Derive,
    temporaries: KeyHandle[],
  ): Promise<JoinAnswer> {
    const vault = this.vault;
    const joinEUI = device.joinEUI;
    const counter = activation.counter;
    const rejoin = activation.joinReqType !== 0xff;
    // OptNeg: only a 1.1 device, and only when the network server asked for it (a rejoin is
    // 1.1 by definition). A 1.0.x device gets the bit cleared whatever the network server set.
    const optNeg = root.kind === '1.1' && !isLegacy(device.macVersion) && (rejoin || (input.dlSettings & DL_SETTINGS_OPT_NEG) !== 0);
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
    let encryptionKey: KeyHandle;
    let sessionKeys: { network: NetworkKeyHandles; appSKey: KeyHandle };
    if (optNeg && root.kind === '1.1') {
      const jsIntKey = await derive(root.nwkKey, jsKeyBlock(0x06, device.devEUI));
      mic = await vault.cmac(jsIntKey, joinAcceptMICInput11(activation.joinReqType, joinEUI, counter, plain));
      sessionKeys = await derive11(derive, root.nwkKey, root.appKey, joinNonce, joinEUI, counter);
      // Answering a rejoin, the join-accept is encrypted with JSEncKey; a join, with NwkKey.
      encryptionKey = rejoin ? await derive(root.nwkKey, jsKeyBlock(0x05, device.devEUI)) : root.nwkKey;
    } else {
      mic = await vault.cmac(legacyRoot, plain);
      sessionKeys = await derive10(derive, legacyRoot, joinNonce, peer.netID, counter);
      encryptionKey = legacyRoot;
    }
    const encrypted = await vault.decryptBlocks(encryptionKey, Buffer.concat([plain.subarray(1), mic.subarray(0, 4)]));
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
      legacyKeysAs11: networkKeys.kind === 'legacy' && !isLegacy(input.macVersion) && dialectOf(peer.vendor).legacyKeysAs11,
      appSKey,
      sessionKeyID,
      joinNonce,
      devNonce: counter,
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
    // A SessionKeyID only where one is issued (drawn from the CSPRNG: 1.7% of a join's CPU).
    const newSessionKeyID = (): string => randomBytes(16).toString('hex');
    if (device.asPeer !== null) {
      const as = await this.store.getPeer(device.asPeer);
      if (as && as.kind === 'as') {
        const asKEK = await this.openKEK(as.sealedKEK, as.name);
        temporaries.push(asKEK);
        return { appSKey: { kekLabel: as.kekLabel, aesKey: await this.vault.wrapKey(appSKey, asKEK) }, sessionKeyID: newSessionKeyID() };
      }
    }
    const dialect = dialectOf(peer.vendor);
    const envelope =
      dialect.appSKeyWithoutAS === 'clear'
        ? { kekLabel: '', aesKey: Buffer.from((await this.vault.exportKey(appSKey)).unsafeBytes()) }
        : await wrapForNS(appSKey);
    return { appSKey: envelope, sessionKeyID: dialect.sessionKeyID === 'always' ? newSessionKeyID() : undefined };
  }

  private openKEK(sealed: Buffer, peerName: string): Promise<KeyHandle> {
    return this.vault.openKey(sealed, kekContext(peerName));
  }
}

function frameFailure(err: unknown, what: string): Failure {
  if (err instanceof FrameError) {
    return failure(err.code === 'FrameSize' ? 'FrameSize' : 'Malformed', `PHYPayload is not a ${what}: ${err.message}`);
  }
  throw err;
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

/**
 * 1.1 with OptNeg: three network keys from NwkKey, AppSKey from AppKey, keyed by JoinEUI. A
 * rejoin's RJcount takes DevNonce's place (the counter of the request the join-accept answers).
 */
async function derive11(derive: Derive, nwkKey: KeyHandle, appKey: KeyHandle, joinNonce: JoinNonce, joinEUI: EUI64, devNonce: DevNonce) {
  const fNwkSIntKey = await derive(nwkKey, sessionKeyBlock11(0x01, joinNonce, joinEUI, devNonce));
  const appSKey = await derive(appKey, sessionKeyBlock11(0x02, joinNonce, joinEUI, devNonce));
  const sNwkSIntKey = await derive(nwkKey, sessionKeyBlock11(0x03, joinNonce, joinEUI, devNonce));
  const nwkSEncKey = await derive(nwkKey, sessionKeyBlock11(0x04, joinNonce, joinEUI, devNonce));
  return { network: { kind: '1.1' as const, fNwkSIntKey, sNwkSIntKey, nwkSEncKey }, appSKey };
}
