import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { KeyHandle, KeyVault } from '../keys/key-vault';
import type { EUI64 } from '../lorawan/identifiers';
import { DL_SETTINGS_OPT_NEG, encodeJoinAcceptPlain, JOIN_ACCEPT_MHDR, joinAcceptMICInput11 } from '../lorawan/join-accept';
import { isLegacy } from '../lorawan/mac-version';
import type { JoinNonce } from '../lorawan/nonces';
import type { NetworkServerPeer } from '../peers/peer';
import { dialectOf } from '../peers/vendor-dialect';
import { activationRecorded, mayJoinThrough, type Device, type NonceState } from '../store/device';
import type { JoinState } from '../store/ports/join-state';
import type { PeerRegistry } from '../store/ports/peer-registry';
import { acceptDevNonce, DEFAULT_USED_DEV_NONCES } from './dev-nonce-policy';
import { failure, type Failure } from './failure';
import type { NetworkKeys } from './join-answer';
import type { JoinOutcome } from './join-outcome';
import { frameName, type JoinRequestFrame } from './join-request-frame';
import type { JoinRequestMessage } from './join-request-message';
import type { KeyEnvelope } from './key-envelope';
import { nextJoinNonce } from './next-join-nonce';
import { countRejoin, DEFAULT_REJOINS_PER_HOUR } from './rejoin-rate-bound';
import { answersWithOptNeg, appSKeyDelivery, jsIntKey, sessionKeyPlan, type SessionKeyName, type SessionKeyPlan } from './session-key-plan';
import { TemporaryKeys } from './temporary-keys';
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
    private readonly store: JoinState & Pick<PeerRegistry, 'getPeer'>,
    private readonly vault: KeyVault,
    options: JoinEngineOptions = {},
  ) {
    this.usedDevNonces = options.usedDevNonces ?? DEFAULT_USED_DEV_NONCES;
    this.sessionHistory = options.sessionHistory ?? 10;
    this.maxCommitAttempts = options.maxCommitAttempts ?? 64;
    this.rejoinsPerHour = options.rejoinsPerHour ?? DEFAULT_REJOINS_PER_HOUR;
  }

  /**
   * A join-request (any MAC version) or a LoRaWAN 1.1 rejoin-request, answered in these steps,
   * top to bottom; a step that refuses ends it with its Failure. Nothing is written before the
   * nonce commit, and nothing derived from the new JoinNonce exists before that write is durable.
   *
   * Rejoin-requests: type 1 is MIC'd with JSIntKey and checked here; its RJcount1 must be greater
   * than the last accepted one (kept for the device's lifetime, never reset by a join). Types 0
   * and 2 are MIC'd with SNwkSIntKey, which only the network server has: it checked the MIC
   * before forwarding; here their NetID must be the network server's, and RJcount0 must be
   * greater than the last one accepted since the device's last join-accept (the device restarts
   * it at each), so a forwarded frame is never accepted twice. Every accepted rejoin gets a fresh
   * JoinNonce, so no answer repeats; the rejoins accepted per device are bounded (rejoin-rate-bound.ts).
   */
  async handleJoin(request: JoinRequestMessage, peer: NetworkServerPeer): Promise<JoinOutcome> {
    // 1. The frame is for this request's device, and names this Join Server's JoinEUI (a rejoin
    //    type 0/2, the network server's NetID).
    const receiver = checkReceiver(request, peer);
    if (!receiver.ok) return { device: null, result: receiver };
    const { frame, joinEUI } = receiver;

    // 2. The device exists under that JoinEUI, is claimed, and bound to this network server.
    const device = await this.store.deviceForJoin(frame.devEUI);
    if (!device || device.joinEUI !== joinEUI) return { device: null, result: failure('UnknownDevEUI', `no device ${frame.devEUI} with JoinEUI ${joinEUI}`) };
    const unbound = checkBinding(device, frame, peer);
    if (unbound) return { device, result: unbound };

    // 3. Its root keys, opened in the vault.
    const keys = new TemporaryKeys(this.vault, await this.vault.openRootKeys(device.sealedRootKeys, device.devEUI));
    try {
      // 4. The MIC.
      if (!(await this.verifyMIC(frame, keys))) return { device, result: failure('MICFailed', `${frameName(frame)} MIC does not verify`) };

      // 5. The new nonce state and the next JoinNonce, committed.
      const committed = await this.commitNonces(frame, device, peer);
      if (!committed.ok) return { device, result: committed };
      const { joinNonce } = committed;

      // 6. The join-accept.
      const rootKind = keys.rootKind;
      const optNeg = answersWithOptNeg(rootKind, committed.device.macVersion, frame.joinType !== 'join', request.dlSettings);
      const plan = sessionKeyPlan({ rootKind, optNeg, joinReqType: frame.joinReqType, devEUI: device.devEUI, joinEUI: device.joinEUI, netID: peer.netID, joinNonce, devNonce: frame.counter });
      const phyPayload = await this.buildAccept(request, peer, plan, joinNonce, keys);

      // 7. The session keys, derived and wrapped for their recipients.
      const wrapped = await this.deriveAndWrapKeys(plan, committed.device, peer, keys);

      // 8. The session, kept for AppSKeyReq when it has a SessionKeyID.
      if (wrapped.sessionKeyID !== undefined) await this.recordSession(committed.device, peer, wrapped.sessionKeyID, joinNonce, wrapped.appSKeyHandle);

      return {
        device,
        result: {
          ok: true,
          phyPayload,
          networkKeys: wrapped.networkKeys,
          legacyKeysAs11: wrapped.networkKeys.kind === 'legacy' && !isLegacy(request.macVersion) && dialectOf(peer.vendor).legacyKeysAs11,
          appSKey: wrapped.appSKey,
          sessionKeyID: wrapped.sessionKeyID,
          joinNonce,
          devNonce: frame.counter,
          optNeg,
        },
      };
    } finally {
      keys.release();
    }
  }

  /** A join-request is MIC'd with NwkKey (1.1) or the only root key (1.0.x); a rejoin type 1 with JSIntKey; types 0/2 were checked by the network server. */
  private async verifyMIC(frame: JoinRequestFrame, keys: TemporaryKeys): Promise<boolean> {
    if (!('mic' in frame)) return true; // types 0 and 2
    let micKey: KeyHandle;
    if (frame.joinType === 'join') micKey = keys.rootKey(keys.rootKind === '1.1' ? 'nwkKey' : 'appKey');
    else if (keys.rootKind !== '1.1') return false;
    else micKey = await keys.derive(jsIntKey(frame.devEUI));
    const tag = await this.vault.cmac(micKey, frame.micInput);
    return timingSafeEqual(tag.subarray(0, 4), frame.mic);
  }

  /**
   * The nonce check-and-update: decide on the state read, write only if nobody else wrote in
   * between (version check), else read again and decide again.
   */
  private async commitNonces(frame: JoinRequestFrame, read: Device, peer: NetworkServerPeer): Promise<{ readonly ok: true; readonly device: Device; readonly joinNonce: JoinNonce } | Failure> {
    let device = read;
    for (let attempt = 0; ; attempt++) {
      if (attempt >= this.maxCommitAttempts) return failure('Contention', `too many concurrent requests for device ${frame.devEUI}; retry`);
      if (attempt > 0) {
        const reread = await this.store.deviceForJoin(frame.devEUI);
        if (!reread || reread.ownership.owner === null || !mayJoinThrough(reread, peer.name)) return failure('NotBound', `device ${frame.devEUI} is no longer bound to ${peer.name}`);
        device = reread;
      }
      const counters = this.nextCounters(frame, device);
      if (!counters.ok) return counters;
      const now = new Date();
      const rejoins = frame.joinType === 'join' ? { ok: true as const, window: device.nonces.rejoinWindow } : countRejoin(device.nonces.rejoinWindow, now, this.rejoinsPerHour);
      if (!rejoins.ok) return rejoins;
      const next = nextJoinNonce(device.nonces.lastJoinNonce);
      if (!next.ok) return next;
      const committed = await this.store.commitJoin({
        devEUI: device.devEUI,
        expectedVersion: device.version,
        // RJcount0 restarts (null) at every join-accept that does not answer a rejoin type 0/2.
        nonces: { ...device.nonces, lastRJCount0: null, ...counters.next, rejoinWindow: rejoins.window, lastJoinNonce: next.joinNonce },
        joinedAt: now,
        peer: peer.name,
        recordsActivation: !activationRecorded(device.ownership),
      });
      if (committed) return { ok: true, device, joinNonce: next.joinNonce };
    }
  }

  /** The request's counter against the device's nonce state: DevNonce (dev-nonce-policy.ts), RJcount1, or RJcount0. */
  private nextCounters(frame: JoinRequestFrame, device: Device): { readonly ok: true; readonly next: Partial<NonceState> } | Failure {
    const { nonces } = device;
    switch (frame.joinType) {
      case 'join':
        return acceptDevNonce(device.macVersion, nonces, frame.counter, this.usedDevNonces);
      case 'rejoin-1':
        return nonces.lastRJCount1 !== null && frame.counter <= nonces.lastRJCount1
          ? failure('RJCountReplayed', `RJcount1 ${frame.counter} is not greater than the last accepted RJcount1 ${nonces.lastRJCount1}`)
          : { ok: true, next: { lastRJCount1: frame.counter } };
      default:
        return nonces.lastRJCount0 !== null && frame.counter <= nonces.lastRJCount0
          ? failure('RJCountReplayed', `RJcount0 ${frame.counter} is not greater than the last RJcount0 ${nonces.lastRJCount0} accepted since the device's last join-accept`)
          : { ok: true, next: { lastRJCount0: frame.counter } };
    }
  }

  /** The encrypted join-accept: OptNeg as answered, the network server's NetID, DevAddr, DLSettings, RxDelay and CFList. */
  private async buildAccept(request: JoinRequestMessage, peer: NetworkServerPeer, plan: SessionKeyPlan, joinNonce: JoinNonce, keys: TemporaryKeys): Promise<Buffer> {
    const optNeg = plan.kind === '1.1';
    const plain = encodeJoinAcceptPlain({
      joinNonce,
      netID: peer.netID,
      devAddr: request.devAddr,
      dlSettings: optNeg ? request.dlSettings | DL_SETTINGS_OPT_NEG : request.dlSettings & ~DL_SETTINGS_OPT_NEG & 0xff,
      rxDelay: request.rxDelay,
      ...(request.cfList ? { cfList: request.cfList } : {}),
    });
    const mic =
      plan.acceptMIC.kind === '1.1'
        ? await this.vault.cmac(await keys.derive(plan.acceptMIC.key), joinAcceptMICInput11(plan.acceptMIC.joinReqType, plan.acceptMIC.joinEUI, plan.acceptMIC.devNonce, plain))
        : await this.vault.cmac(keys.rootKey(plan.acceptMIC.key), plain);
    const encryptionKey = 'root' in plan.acceptEncryption ? keys.rootKey(plan.acceptEncryption.root) : await keys.derive(plan.acceptEncryption.derived);
    const encrypted = await this.vault.decryptBlocks(encryptionKey, Buffer.concat([plain.subarray(1), mic.subarray(0, 4)]));
    return Buffer.concat([Buffer.of(JOIN_ACCEPT_MHDR), encrypted]);
  }

  /**
   * The session keys of the plan, derived in the vault; the network keys wrapped under the
   * network server's KEK; the AppSKey for its recipient (session-key-plan.ts: appSKeyDelivery).
   */
  private async deriveAndWrapKeys(plan: SessionKeyPlan, device: Device, peer: NetworkServerPeer, keys: TemporaryKeys) {
    const derived = new Map<SessionKeyName, KeyHandle>();
    for (const k of plan.sessionKeys) derived.set(k.name, await keys.derive(k));
    const key = (name: SessionKeyName): KeyHandle => derived.get(name)!;

    const nsKEK = keys.keep(await this.openKEK(peer.sealedKEK, peer.name));
    const wrapForNS = async (handle: KeyHandle): Promise<KeyEnvelope> => ({ kekLabel: peer.kekLabel, aesKey: await this.vault.wrapKey(handle, nsKEK) });
    const networkKeys: NetworkKeys =
      plan.kind === '1.1'
        ? { kind: '1.1', fNwkSIntKey: await wrapForNS(key('fNwkSIntKey')), sNwkSIntKey: await wrapForNS(key('sNwkSIntKey')), nwkSEncKey: await wrapForNS(key('nwkSEncKey')) }
        : { kind: 'legacy', nwkSKey: await wrapForNS(key('nwkSKey')) };

    const appSKeyHandle = key('appSKey');
    const as = device.asPeer !== null ? await this.store.getPeer(device.asPeer) : null;
    const delivery = appSKeyDelivery(as !== null && as.kind === 'as', dialectOf(peer.vendor));
    let appSKey: KeyEnvelope;
    if (delivery.to === 'application-server' && as) {
      const asKEK = keys.keep(await this.openKEK(as.sealedKEK, as.name));
      appSKey = { kekLabel: as.kekLabel, aesKey: await this.vault.wrapKey(appSKeyHandle, asKEK) };
    } else if (delivery.to === 'clear') {
      appSKey = { kekLabel: '', aesKey: Buffer.from((await this.vault.exportKey(appSKeyHandle)).unsafeBytes()) };
    } else {
      appSKey = await wrapForNS(appSKeyHandle);
    }
    // A SessionKeyID only where one is issued (drawn from the CSPRNG: 1.7% of a join's CPU).
    const sessionKeyID = delivery.sessionKeyID ? randomBytes(16).toString('hex') : undefined;
    return { networkKeys, appSKey, appSKeyHandle, sessionKeyID };
  }

  /** The AppSKey sealed under its SessionKeyID, for the AppSKeyReq of its recipient; the device keeps the last `sessionHistory`. */
  private async recordSession(device: Device, peer: NetworkServerPeer, sessionKeyID: string, joinNonce: JoinNonce, appSKey: KeyHandle): Promise<void> {
    await this.store.addSession(
      {
        devEUI: device.devEUI,
        sessionKeyID,
        joinNonce,
        nsPeer: peer.name,
        asPeer: device.asPeer,
        sealedAppSKey: await this.vault.sealKey(appSKey, appSKeyContext(device.devEUI, sessionKeyID)),
        createdAt: new Date(),
      },
      this.sessionHistory,
    );
  }

  private openKEK(sealed: Buffer, peerName: string): Promise<KeyHandle> {
    return this.vault.openKey(sealed, kekContext(peerName));
  }
}

/**
 * Step 1: the frame decoded; a rejoin type 0/2 names the network server's NetID; the frame's
 * DevEUI is the request's; its JoinEUI (a rejoin type 0/2 names none: the ReceiverID's is taken)
 * is the ReceiverID.
 */
function checkReceiver(request: JoinRequestMessage, peer: NetworkServerPeer): { readonly ok: true; readonly frame: JoinRequestFrame; readonly joinEUI: EUI64 } | Failure {
  const { frame } = request;
  if (!frame.ok) return frame;
  if ((frame.joinType === 'rejoin-0' || frame.joinType === 'rejoin-2') && frame.netID !== peer.netID) {
    return failure('RejoinNetIDMismatch', `rejoin-request type ${frame.joinReqType} names NetID ${frame.netID}, not the NetID ${peer.netID} of network server ${peer.name}`);
  }
  if (frame.devEUI !== request.devEUI) return failure('Malformed', `DevEUI ${request.devEUI} does not match the ${frameName(frame)}'s DevEUI ${frame.devEUI}`);
  const joinEUI = 'joinEUI' in frame ? frame.joinEUI : request.receiverJoinEUI;
  if (joinEUI !== request.receiverJoinEUI) return failure('UnknownReceiver', `ReceiverID ${request.receiverJoinEUI} is not the ${frameName(frame)}'s JoinEUI ${joinEUI}`);
  return { ok: true, frame, joinEUI };
}

/** Step 2: only a claimed device joins, only through its network server (or an overlap migration's target); a rejoin only a 1.1 device. */
function checkBinding(device: Device, frame: JoinRequestFrame, peer: NetworkServerPeer): Failure | undefined {
  if (device.ownership.owner === null) return failure('NotBound', `device ${device.devEUI} is not claimed: its owner must claim it and bind it to a network server`);
  if (!mayJoinThrough(device, peer.name)) return failure('NotBound', `device ${device.devEUI} is not bound to network server ${peer.name}`);
  if (frame.joinType !== 'join' && isLegacy(device.macVersion)) return failure('RejoinNotSupported', `device ${device.devEUI} is LoRaWAN ${device.macVersion}: rejoin-requests are LoRaWAN 1.1`);
  return undefined;
}
