import type { Device } from '../store/device';
import { joinEventTenant, recordJoin, type SeenActivation } from '../events/record-join';
import type { JoinEventListener } from '../events/join-event';
import { AppSKeyService } from '../join/app-s-key-service';
import { failure, type Failure } from '../join/failure';
import type { JoinAnswer } from '../join/join-answer';
import type { JoinEngine } from '../join/join-engine';
import type { KeyEnvelope } from '../join/key-envelope';
import { toHex } from '../lorawan/hex';
import { parseNetID } from '../lorawan/identifiers';
import { joinEUIInPrefix, type JoinEUIPrefix } from '../lorawan/join-eui-prefix';
import { ParseError } from '../lorawan/parse-error';
import type { Logger } from '../log/logger';
import type { JoineryMetrics } from '../metrics/metrics';
import type { Peer } from '../peers/peer';
import type { Store } from '../store/store';
import { answerHeader } from './answer-header';
import type { AsyncAnswerSender } from './async-answer-sender';
import { resolveCaller, type Caller, type UnauthenticatedCause } from './caller';
import type { WireAnswer, WireAnswerHeader, WireKeyEnvelope, WireResult } from './messages';
import { parseAppSKeyReq } from './parse-app-s-key-req';
import { maySeeHome, type HomeNSAnswers } from './home-ns-visibility';
import { parseHomeNSReq } from './parse-home-ns-req';
import { parseJoinReq } from './parse-join-req';
import { parseRequestHeader, type RequestHeader } from './request-header';
import { parseResultCode } from './result-code';
import { resultCodeFor } from './result-table';

export interface BackendInterfacesOptions {
  /** JoinEUI ranges this Join Server serves; a JoinReq/RejoinReq for another gets UnknownReceiver. Empty = all. */
  readonly servedJoinEUIs?: readonly JoinEUIPrefix[];
  /** Told of every JoinReq/RejoinReq whose DevEUI parsed, after its answer is computed (MQTT events). */
  readonly onJoin?: JoinEventListener;
  /** Which network servers a HomeNSReq is answered to (default `tenant`). */
  readonly homeNSAnswers?: HomeNSAnswers;
}

/**
 * What the transport sends back: a BI answer; a bare acknowledgement (HTTP 200, no body: an
 * ErrorNotif, or a request of an asynchronous peer whose answer follows separately); or a
 * refusal of a caller with no credential at all (HTTP 401).
 */
export type BIReply =
  | { readonly kind: 'answer'; readonly answer: WireAnswer }
  | { readonly kind: 'acknowledge' }
  | { readonly kind: 'unauthenticated'; readonly cause: UnauthenticatedCause; readonly message: string; readonly detail: string };

/** Messages answered by an answer message, which an asynchronous peer receives separately. */
const REQUESTS = new Set(['JoinReq', 'RejoinReq', 'AppSKeyReq', 'HomeNSReq']);

/**
 * The Backend Interfaces request handler, independent of HTTP: one JSON object in, one BI
 * answer out. Every protocol outcome, refusals included, is an answer with a `Result`; an
 * ErrorNotif (a notification, with no answer message) is acknowledged.
 */
export class BackendInterfacesHandler {
  private readonly servedJoinEUIs: readonly JoinEUIPrefix[];
  private readonly onJoin: JoinEventListener | undefined;
  private readonly homeNSAnswers: HomeNSAnswers;
  /** Answers of asynchronous peers being computed or delivered. */
  private readonly pendingAsync = new Set<Promise<unknown>>();

  constructor(
    private readonly store: Store,
    private readonly engine: JoinEngine,
    private readonly appSKeys: AppSKeyService,
    private readonly log: Logger,
    private readonly metrics: JoineryMetrics,
    private readonly asyncAnswers: AsyncAnswerSender | undefined,
    options: BackendInterfacesOptions = {},
  ) {
    this.servedJoinEUIs = options.servedJoinEUIs ?? [];
    this.onJoin = options.onJoin;
    this.homeNSAnswers = options.homeNSAnswers ?? 'tenant';
  }

  async handle(body: Record<string, unknown>, caller: Caller): Promise<BIReply> {
    const started = process.hrtime.bigint();
    const { header, problem } = parseRequestHeader(body);
    let peer: Peer | null = null;
    try {
      const resolved = await resolveCaller(this.store, caller);
      // Logged by the transport, rate-limited per caller address.
      if (resolved.kind === 'unauthenticated') return { kind: 'unauthenticated', cause: resolved.cause, message: resolved.reason, detail: resolved.detail };
      if (resolved.kind === 'unknown') {
        return this.record(body, header, null, started, refusal(header, failure('UnknownSender', resolved.reason)));
      }
      peer = resolved.peer;
    } catch (err) {
      return this.record(body, header, null, started, this.internalError(err, header));
    }

    const target = peer.settings.asyncAnswers;
    if (target && this.asyncAnswers && header.protocolVersionValid && !problem && REQUESTS.has(header.messageType)) {
      // Asynchronous peer: HTTP 200 now; the answer, computed once, goes to its answer URL.
      const receivedAt = Date.now();
      const asyncPeer = peer;
      const sender = this.asyncAnswers;
      const work: Promise<unknown> = this.answer(body, header, problem, asyncPeer, started)
        .then((reply) => {
          if (reply.kind === 'answer') return sender.send({ peerName: asyncPeer.name, url: target.url, caPem: target.caPem ?? undefined }, reply.answer, receivedAt);
          return undefined;
        })
        .finally(() => this.pendingAsync.delete(work));
      this.pendingAsync.add(work);
      return { kind: 'acknowledge' };
    }
    return this.answer(body, header, problem, peer, started);
  }

  /** Waits until every acknowledged asynchronous request has been answered (graceful shutdown). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.pendingAsync]);
  }

  /** Computes the reply to an identified peer's message and records it (log line, metrics). */
  private async answer(body: Record<string, unknown>, header: RequestHeader, problem: ParseError | undefined, peer: Peer, started: bigint): Promise<BIReply> {
    let reply: BIReply;
    try {
      reply = await this.dispatch(body, header, problem, peer);
    } catch (err) {
      reply = this.internalError(err, header);
    }
    return this.record(body, header, peer, started, reply);
  }

  private internalError(err: unknown, header: RequestHeader): BIReply {
    this.log.error({ err: describeError(err), messageType: header.messageType }, 'backend interfaces request failed');
    return refusal(header, failure('Internal', 'internal error in the Join Server; see its log'));
  }

  /** One log line and the metrics of every answered request. */
  private record(body: Record<string, unknown>, header: RequestHeader, peer: Peer | null, started: bigint, reply: BIReply): BIReply {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const result = reply.kind === 'answer' ? reply.answer.Result : undefined;
    const messageType = metricLabel(header.messageType);
    this.metrics.biRequests.inc({ message_type: messageType, result: result?.ResultCode ?? 'Acknowledged', peer: peer?.name ?? '' });
    this.metrics.biLatency.observe({ message_type: messageType }, seconds);
    this.log.info(
      {
        messageType: header.messageType,
        transactionID: header.transactionID,
        devEUI: typeof body['DevEUI'] === 'string' ? body['DevEUI'] : undefined,
        peer: peer?.name,
        result: result?.ResultCode ?? 'Acknowledged',
        ...(result && result.ResultCode !== 'Success' ? { description: result.Description } : {}),
        latencyMs: Math.round(seconds * 1e6) / 1000,
      },
      'bi request',
    );
    return reply;
  }

  private async dispatch(body: Record<string, unknown>, header: RequestHeader, problem: ParseError | undefined, peer: Peer): Promise<BIReply> {
    if (!header.protocolVersionValid) {
      return refusal(header, failure('InvalidProtocolVersion', `ProtocolVersion ${JSON.stringify(body['ProtocolVersion'] ?? null)} is not 1.0 or 1.1`));
    }
    if (problem) return refusal(header, failure('Malformed', problem.message));

    switch (header.messageType) {
      case 'JoinReq':
      case 'RejoinReq':
        return this.activation(body, header, peer);
      case 'AppSKeyReq':
        return this.appSKeyReq(body, header, peer);
      case 'HomeNSReq':
        return this.homeNSReq(body, header, peer);
      case 'ErrorNotif':
        return this.errorNotif(body, header, peer);
      default:
        return refusal(header, failure('Unsupported', `MessageType ${header.messageType} is not handled by this Join Server`));
    }
  }

  /** JoinReq and RejoinReq, recorded as joins (metrics, join event) whatever the outcome. */
  private async activation(body: Record<string, unknown>, header: RequestHeader, peer: Peer): Promise<BIReply> {
    const started = process.hrtime.bigint();
    const seen: SeenActivation = {};
    let reply: BIReply;
    try {
      reply = await this.activationReply(body, header, peer, seen);
    } catch (err) {
      reply = this.internalError(err, header);
    }
    recordJoin(this.metrics, this.onJoin, header, peer, seen, reply, started);
    return reply;
  }

  /** JoinReq and RejoinReq: the same fields, the same answer shape (JoinAns, RejoinAns). */
  private async activationReply(body: Record<string, unknown>, header: RequestHeader, peer: Peer, seen: SeenActivation): Promise<BIReply> {
    if (peer.kind !== 'ns') return refusal(header, failure('UnknownSender', `${peer.name} is not a network server`));
    const senderMismatch = this.checkNetworkServerSender(header, peer.netID, peer.nsID, peer.name);
    if (senderMismatch) return refusal(header, senderMismatch);
    let input;
    try {
      input = parseJoinReq(body, header);
      seen.input = input;
    } catch (e) {
      if (e instanceof ParseError) return refusal(header, failure('Malformed', e.message));
      throw e;
    }
    if (this.servedJoinEUIs.length > 0 && !this.servedJoinEUIs.some((p) => joinEUIInPrefix(input.receiverJoinEUI, p))) {
      return refusal(header, failure('UnknownReceiver', `JoinEUI ${input.receiverJoinEUI} is not served by this Join Server`));
    }
    const found = (device: Device): void => {
      seen.tenant = joinEventTenant(device);
    };
    const outcome = header.messageType === 'RejoinReq' ? await this.engine.rejoin(input, peer, found) : await this.engine.join(input, peer, found);
    seen.outcome = outcome;
    if (!outcome.ok && outcome.code === 'RejoinRateExceeded') {
      this.log.warn({ devEUI: input.devEUI, peer: peer.name, transactionID: header.transactionID }, 'rejoin-request refused: the device reached its rejoin bound (--rejoins-per-hour)');
    }
    if (!outcome.ok) return refusal(header, outcome, input.receiverJoinEUI);
    return joinAns(header, input.receiverJoinEUI, outcome);
  }

  /**
   * HomeNSReq: the home network server of a device (its binding), for a network server that may
   * see the device (`homeNSAnswers`). ReceiverID must be the device's JoinEUI. A device this peer
   * may not see, one asked for under another JoinEUI and one without a home network server are
   * all answered exactly as a device that does not exist: the same result and Description, built
   * from the request alone, so the answer never tells whether the DevEUI is registered. (An
   * UnknownReceiver for a JoinEUI that is not the device's would tell that it is.) ReceiverIDs
   * outside the served JoinEUI ranges get UnknownReceiver, which depends on no device either.
   */
  private async homeNSReq(body: Record<string, unknown>, header: RequestHeader, peer: Peer): Promise<BIReply> {
    if (peer.kind !== 'ns') return refusal(header, failure('UnknownSender', `${peer.name} is not a network server`));
    const senderMismatch = this.checkNetworkServerSender(header, peer.netID, peer.nsID, peer.name);
    if (senderMismatch) return refusal(header, senderMismatch);
    let request;
    try {
      request = parseHomeNSReq(body, header);
    } catch (e) {
      if (e instanceof ParseError) return refusal(header, failure('Malformed', e.message));
      throw e;
    }
    const { devEUI, receiverJoinEUI } = request;
    if (this.servedJoinEUIs.length > 0 && !this.servedJoinEUIs.some((p) => joinEUIInPrefix(receiverJoinEUI, p))) {
      return refusal(header, failure('UnknownReceiver', `JoinEUI ${receiverJoinEUI} is not served by this Join Server`));
    }
    const device = await this.store.getDevice(devEUI);
    const visible = device !== null && device.joinEUI === receiverJoinEUI && maySeeHome(this.homeNSAnswers, device, peer);
    const home = visible && device.nsPeer !== null ? await this.store.getPeer(device.nsPeer) : null;
    if (!home || home.kind !== 'ns') return refusal(header, failure('UnknownDevEUI', `no home network server known for device ${devEUI} with JoinEUI ${receiverJoinEUI}`), receiverJoinEUI);
    const answer: WireAnswer = { ...answerHeader(header, receiverJoinEUI), Result: { ResultCode: 'Success' }, HNetID: home.netID };
    if (header.protocolVersion === '1.1' && home.nsID !== null) answer['HNSID'] = home.nsID;
    return { kind: 'answer', answer };
  }

  /** ErrorNotif: a peer tells us an earlier exchange failed. Logged, counted, acknowledged. */
  private async errorNotif(body: Record<string, unknown>, header: RequestHeader, peer: Peer): Promise<BIReply> {
    const result = (typeof body['Result'] === 'object' && body['Result'] !== null ? body['Result'] : {}) as Record<string, unknown>;
    const notified = parseResultCode(result['ResultCode']);
    const description = typeof result['Description'] === 'string' ? result['Description'].slice(0, 512) : undefined;
    this.metrics.errorNotifs.inc({ result: notified, peer: peer.name });
    this.log.warn({ peer: peer.name, transactionID: header.transactionID, notified, description }, 'ErrorNotif received');
    return { kind: 'acknowledge' };
  }

  private async appSKeyReq(body: Record<string, unknown>, header: RequestHeader, peer: Peer): Promise<BIReply> {
    let input;
    try {
      input = parseAppSKeyReq(body, header);
    } catch (e) {
      if (e instanceof ParseError) return refusal(header, failure('Malformed', e.message));
      throw e;
    }
    const outcome = await this.appSKeys.appSKey(input, peer);
    const base = { ...answerHeader(header, canonicalReceiver(header)), DevEUI: input.devEUI, SessionKeyID: input.sessionKeyID };
    if (!outcome.ok) return { kind: 'answer', answer: { ...base, Result: wireResult(outcome, header) } };
    return { kind: 'answer', answer: { ...base, Result: { ResultCode: 'Success' }, AppSKey: wireEnvelope(outcome.appSKey) } };
  }

  /** SenderID must be the certificate's network server (its NetID), and in BI 1.1 SenderNSID its NSID. */
  private checkNetworkServerSender(header: RequestHeader, netID: string, nsID: string | null, name: string): Failure | undefined {
    let senderNetID;
    try {
      senderNetID = parseNetID(header.senderID, 'SenderID');
    } catch {
      return failure('UnknownSender', `SenderID ${header.senderID} is not a NetID`);
    }
    if (senderNetID !== netID) return failure('UnknownSender', `SenderID ${senderNetID} does not match the NetID of ${name}`);
    if (header.protocolVersion === '1.1' && nsID !== null && header.senderNSID !== nsID) {
      return failure('UnknownSender', `SenderNSID ${header.senderNSID ?? '(none)'} does not match the NSID of ${name}`);
    }
    return undefined;
  }
}

function describeError(err: unknown): { message: string; name?: string; stack?: string } {
  return err instanceof Error ? { name: err.name, message: err.message, stack: err.stack } : { message: String(err) };
}

/** The Join Server answers as the JoinEUI it was asked as: the ReceiverID, canonical when it is hex. */
function canonicalReceiver(header: RequestHeader): string {
  return /^(0x)?[0-9a-fA-F]{16}$/.test(header.receiverID) ? header.receiverID.replace(/^0x/, '').toLowerCase() : header.receiverID;
}

function wireResult(f: Failure, header: RequestHeader): WireResult {
  return { ResultCode: resultCodeFor(f.code, header.protocolVersion), Description: f.description };
}

function refusal(header: RequestHeader, f: Failure, senderID?: string): BIReply {
  const h: WireAnswerHeader = answerHeader(header, senderID ?? canonicalReceiver(header));
  return { kind: 'answer', answer: { ...h, Result: wireResult(f, header) } };
}

/** Message types as metric labels: the known ones, everything else `other` (bounded cardinality). */
const KNOWN_TYPES = new Set(['JoinReq', 'RejoinReq', 'AppSKeyReq', 'HomeNSReq', 'ErrorNotif', 'PRStartReq', 'PRStopReq', 'XmitDataReq', 'ProfileReq']);
function metricLabel(messageType: string): string {
  return KNOWN_TYPES.has(messageType) ? messageType : 'other';
}

function wireEnvelope(e: KeyEnvelope): WireKeyEnvelope {
  return { KEKLabel: e.kekLabel, AESKey: toHex(e.aesKey) };
}

function joinAns(header: RequestHeader, joinEUI: string, a: JoinAnswer): BIReply {
  const ans: WireAnswer = { ...answerHeader(header, joinEUI), Result: { ResultCode: 'Success' }, PHYPayload: toHex(a.phyPayload) };
  if (a.networkKeys.kind === '1.1') {
    ans['FNwkSIntKey'] = wireEnvelope(a.networkKeys.fNwkSIntKey);
    ans['SNwkSIntKey'] = wireEnvelope(a.networkKeys.sNwkSIntKey);
    ans['NwkSEncKey'] = wireEnvelope(a.networkKeys.nwkSEncKey);
  } else {
    const nwkSKey = wireEnvelope(a.networkKeys.nwkSKey);
    ans['NwkSKey'] = nwkSKey;
    if (a.legacyKeysAs11) {
      // 1.1 device answered without OptNeg: FNwkSIntKey = SNwkSIntKey = NwkSEncKey = NwkSKey.
      ans['FNwkSIntKey'] = nwkSKey;
      ans['SNwkSIntKey'] = nwkSKey;
      ans['NwkSEncKey'] = nwkSKey;
    }
  }
  ans['AppSKey'] = wireEnvelope(a.appSKey);
  if (a.sessionKeyID !== undefined) ans['SessionKeyID'] = a.sessionKeyID;
  return { kind: 'answer', answer: ans };
}
