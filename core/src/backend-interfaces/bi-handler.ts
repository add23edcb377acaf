import { recordJoin } from '../events/record-join';
import type { JoinEventListener } from '../events/join-event';
import type { AppSKeyRequestInput, AppSKeyService } from '../join/app-s-key-service';
import { failure, type Failure } from '../join/failure';
import type { JoinAnswer } from '../join/join-answer';
import type { JoinEngine } from '../join/join-engine';
import type { JoinOutcome } from '../join/join-outcome';
import type { JoinRequestMessage } from '../join/join-request-message';
import type { KeyEnvelope } from '../join/key-envelope';
import { toHex } from '../lorawan/hex';
import { parseNetID, type EUI64 } from '../lorawan/identifiers';
import { joinEUIInPrefix, type JoinEUIPrefix } from '../lorawan/join-eui-prefix';
import { ParseError } from '../lorawan/parse-error';
import type { Logger } from '../log/logger';
import type { JoineryMetrics } from '../metrics/metrics';
import type { NetworkServerPeer, Peer } from '../peers/peer';
import type { Store } from '../store/store';
import { answerHeader } from './answer-header';
import type { AsyncAnswerSender } from './async-answer-sender';
import { resolveCaller, type Caller, type UnauthenticatedCause } from './caller';
import { type WireAnswer, type WireAnswerHeader, type WireKeyEnvelope, type WireResult } from './messages';
import { parseAppSKeyReq } from './parse-app-s-key-req';
import { parseErrorNotif } from './parse-error-notif';
import { maySeeHome, type HomeNSAnswers } from './home-ns-visibility';
import { parseHomeNSReq } from './parse-home-ns-req';
import { parseJoinReq } from './parse-join-req';
import { parseRequestHeader, type RequestHeader } from './request-header';
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

/** A BI message as received: its body, its header (parsed tolerantly, with its first problem), and when it arrived. */
interface Received {
  readonly body: Record<string, unknown>;
  readonly header: RequestHeader;
  readonly problem: ParseError | undefined;
  /** The one clock of a request: its BI latency, and a join's latency. */
  readonly started: bigint;
}

/** A message answered: the reply, and for a join, what the engine made of it. */
interface Answered {
  readonly reply: BIReply;
  readonly outcome?: JoinOutcome;
}

/**
 * How one BI message type is answered, checked in this order: who may send it, how its body
 * parses (a ParseError is answered MalformedRequest/MalformedMessage), and its handler.
 */
interface MessageRoute<Request, Sender extends Peer = Peer> {
  /** `network-server`: only a network server, and its SenderID must be its NetID (in BI 1.1, SenderNSID its NSID). */
  readonly sender: Sender extends NetworkServerPeer ? 'network-server' : 'any-peer';
  /** `answer`: answered by an answer message, which an asynchronous peer receives separately; `acknowledge`: HTTP 200 alone. */
  readonly reply: 'answer' | 'acknowledge';
  /** Recorded as a join (join metrics, join event) whatever the outcome, once routed here. */
  readonly join: boolean;
  parse(body: Record<string, unknown>, header: RequestHeader): Request;
  handle(handler: BackendInterfacesHandler, request: Request, header: RequestHeader, peer: Sender): Promise<Answered>;
}

/** The request of a route whose parse has not completed (a ParseError then is the request's, not an internal error). */
const NOT_PARSED = Symbol('not parsed');

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

  /**
   * One entry per BI message type this Join Server answers; any other type is refused as
   * unsupported. One table for every handler (its routes are given the handler): the functions,
   * and so the code V8 compiles for them, are the same for the warm-up's handler and the
   * server's (warm-up.ts).
   */
  private static readonly routes: ReadonlyMap<string, MessageRoute<unknown>> = new Map<string, MessageRoute<unknown>>([
    [
      'JoinReq',
      route<JoinRequestMessage, NetworkServerPeer>({
        sender: 'network-server',
        reply: 'answer',
        join: true,
        parse: (body, header) => parseJoinReq(body, header, 'JoinReq'),
        handle: (self, r, header, peer) => self.handleJoin(r, header, peer),
      }),
    ],
    [
      'RejoinReq',
      route<JoinRequestMessage, NetworkServerPeer>({
        sender: 'network-server',
        reply: 'answer',
        join: true,
        parse: (body, header) => parseJoinReq(body, header, 'RejoinReq'),
        handle: (self, r, header, peer) => self.handleJoin(r, header, peer),
      }),
    ],
    ['AppSKeyReq', route<AppSKeyRequestInput>({ sender: 'any-peer', reply: 'answer', join: false, parse: parseAppSKeyReq, handle: (self, r, header, peer) => self.appSKeyReq(r, header, peer) })],
    [
      'HomeNSReq',
      route<ReturnType<typeof parseHomeNSReq>, NetworkServerPeer>({ sender: 'network-server', reply: 'answer', join: false, parse: parseHomeNSReq, handle: (self, r, header, peer) => self.homeNSReq(r, header, peer) }),
    ],
    ['ErrorNotif', route({ sender: 'any-peer', reply: 'acknowledge', join: false, parse: parseErrorNotif, handle: (self, r, header, peer) => self.errorNotif(r, header, peer) })],
  ]);

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
    const received: Received = { body, ...parseRequestHeader(body), started: process.hrtime.bigint() };
    const { header } = received;
    let peer: Peer;
    try {
      const resolved = await resolveCaller(this.store, caller);
      // Logged by the transport, rate-limited per caller address.
      if (resolved.kind === 'unauthenticated') return { kind: 'unauthenticated', cause: resolved.cause, message: resolved.reason, detail: resolved.detail };
      if (resolved.kind === 'unknown') return this.record(received, null, refusal(header, failure('UnknownSender', resolved.reason)));
      peer = resolved.peer;
    } catch (err) {
      // Caller identification (a store read) failed: no message was handled yet.
      return this.record(received, null, this.internalError(err, header));
    }

    const target = peer.settings.asyncAnswers;
    if (target && this.asyncAnswers && header.protocolVersionValid && !received.problem && BackendInterfacesHandler.routes.get(header.messageType)?.reply === 'answer') {
      // Asynchronous peer: HTTP 200 now; the answer, computed once, goes to its answer URL.
      const receivedAt = Date.now();
      const sender = this.asyncAnswers;
      const work: Promise<unknown> = this.answer(received, peer)
        .then((reply) => (reply.kind === 'answer' ? sender.send({ peerName: peer.name, url: target.url, caPem: target.caPem ?? undefined }, reply.answer, receivedAt) : undefined))
        .finally(() => this.pendingAsync.delete(work));
      this.pendingAsync.add(work);
      return { kind: 'acknowledge' };
    }
    return this.answer(received, peer);
  }

  /** Waits until every acknowledged asynchronous request has been answered (graceful shutdown). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.pendingAsync]);
  }

  /**
   * The reply to an identified peer's message, recorded (log line, metrics; a join's metrics and
   * event). The one place where what went wrong becomes a BI Result: refusals are values
   * (result-table.ts), a ParseError of the body is MalformedRequest/MalformedMessage, any other
   * error is `Other`, logged.
   */
  private async answer(received: Received, peer: Peer): Promise<BIReply> {
    const { body, header, problem } = received;
    if (!header.protocolVersionValid) {
      return this.record(received, peer, refusal(header, failure('InvalidProtocolVersion', `ProtocolVersion ${JSON.stringify(body['ProtocolVersion'] ?? null)} is not 1.0 or 1.1`)));
    }
    if (problem) return this.record(received, peer, refusal(header, failure('Malformed', problem.message)));
    const route = BackendInterfacesHandler.routes.get(header.messageType);
    if (!route) return this.record(received, peer, refusal(header, failure('Unsupported', `MessageType ${header.messageType} is not handled by this Join Server`)));

    let request: unknown = NOT_PARSED;
    let answered: Answered;
    try {
      const wrongSender = route.sender === 'network-server' ? checkNetworkServerSender(header, peer) : undefined;
      if (wrongSender) answered = { reply: refusal(header, wrongSender) };
      else {
        request = route.parse(body, header);
        answered = await route.handle(this, request, header, peer);
      }
    } catch (err) {
      answered = { reply: request === NOT_PARSED && err instanceof ParseError ? refusal(header, failure('Malformed', err.message)) : this.internalError(err, header) };
    }
    // Only a join route parses to a JoinRequestMessage.
    const join = route.join ? { request: request === NOT_PARSED ? undefined : (request as JoinRequestMessage), outcome: answered.outcome } : undefined;
    return this.record(received, peer, answered.reply, join);
  }

  private internalError(err: unknown, header: RequestHeader): BIReply {
    this.log.error({ err: describeError(err), messageType: header.messageType }, 'backend interfaces request failed');
    return refusal(header, failure('Internal', 'internal error in the Join Server; see its log'));
  }

  /** One log line and the metrics of every answered request; a join's metrics and join event first. */
  private record(received: Received, peer: Peer | null, reply: BIReply, join?: { request: JoinRequestMessage | undefined; outcome: JoinOutcome | undefined }): BIReply {
    const { body, header } = received;
    const seconds = Number(process.hrtime.bigint() - received.started) / 1e9;
    const result = reply.kind === 'answer' ? reply.answer.Result : undefined;
    if (join && peer) {
      const messageType = header.messageType === 'RejoinReq' ? 'RejoinReq' : 'JoinReq';
      recordJoin(this.metrics, this.onJoin, { messageType, peer: peer.name, ...join, result: result?.ResultCode ?? 'Acknowledged', description: result?.Description, seconds });
    }
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

  /** JoinReq and RejoinReq: the same fields, the same answer shape (JoinAns, RejoinAns); the engine does the rest. */
  private async handleJoin(request: JoinRequestMessage, header: RequestHeader, peer: NetworkServerPeer): Promise<Answered> {
    if (!this.serves(request.receiverJoinEUI)) return { reply: refusal(header, failure('UnknownReceiver', `JoinEUI ${request.receiverJoinEUI} is not served by this Join Server`)) };
    const outcome = await this.engine.handleJoin(request, peer);
    const { result } = outcome;
    if (!result.ok && result.code === 'RejoinRateExceeded') {
      this.log.warn({ devEUI: request.devEUI, peer: peer.name, transactionID: header.transactionID }, 'rejoin-request refused: the device reached its rejoin bound (--rejoins-per-hour)');
    }
    return { reply: result.ok ? joinAns(header, request.receiverJoinEUI, result) : refusal(header, result, request.receiverJoinEUI), outcome };
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
  private async homeNSReq(request: { readonly devEUI: EUI64; readonly receiverJoinEUI: EUI64 }, header: RequestHeader, peer: NetworkServerPeer): Promise<Answered> {
    const { devEUI, receiverJoinEUI } = request;
    if (!this.serves(receiverJoinEUI)) return { reply: refusal(header, failure('UnknownReceiver', `JoinEUI ${receiverJoinEUI} is not served by this Join Server`)) };
    const device = await this.store.getDevice(devEUI);
    const visible = device !== null && device.joinEUI === receiverJoinEUI && maySeeHome(this.homeNSAnswers, device, peer);
    const home = visible && device.nsPeer !== null ? await this.store.getPeer(device.nsPeer) : null;
    if (!home || home.kind !== 'ns') return { reply: refusal(header, failure('UnknownDevEUI', `no home network server known for device ${devEUI} with JoinEUI ${receiverJoinEUI}`), receiverJoinEUI) };
    const answer: WireAnswer = { ...answerHeader(header, receiverJoinEUI), Result: { ResultCode: 'Success' }, HNetID: home.netID };
    if (header.protocolVersion === '1.1' && home.nsID !== null) answer['HNSID'] = home.nsID;
    return { reply: { kind: 'answer', answer } };
  }

  /** ErrorNotif: a peer tells us an earlier exchange failed. Logged, counted, acknowledged. */
  private async errorNotif(request: ReturnType<typeof parseErrorNotif>, header: RequestHeader, peer: Peer): Promise<Answered> {
    const { notified, description } = request;
    this.metrics.errorNotifs.inc({ result: notified, peer: peer.name });
    this.log.warn({ peer: peer.name, transactionID: header.transactionID, notified, description }, 'ErrorNotif received');
    return { reply: { kind: 'acknowledge' } };
  }

  private async appSKeyReq(request: AppSKeyRequestInput, header: RequestHeader, peer: Peer): Promise<Answered> {
    const outcome = await this.appSKeys.appSKey(request, peer);
    const base = { ...answerHeader(header, canonicalReceiver(header)), DevEUI: request.devEUI, SessionKeyID: request.sessionKeyID };
    if (!outcome.ok) return { reply: { kind: 'answer', answer: { ...base, Result: wireResult(outcome, header) } } };
    return { reply: { kind: 'answer', answer: { ...base, Result: { ResultCode: 'Success' }, AppSKey: wireEnvelope(outcome.appSKey) } } };
  }

  /** Whether a JoinEUI is in the served ranges (`servedJoinEUIs`; none = every JoinEUI). */
  private serves(joinEUI: EUI64): boolean {
    return this.servedJoinEUIs.length === 0 || this.servedJoinEUIs.some((p) => joinEUIInPrefix(joinEUI, p));
  }
}

/**
 * Types one table entry. The table holds entries of every request and sender type (MessageRoute's
 * methods are bivariant in them); `answer` passes each entry its own parse's request, and a
 * `network-server` entry only a network server (checkNetworkServerSender).
 */
function route<Request, Sender extends Peer = Peer>(r: MessageRoute<Request, Sender>): MessageRoute<Request, Sender> {
  return r;
}

/**
 * A message only a network server sends: the peer is one, its SenderID is the certificate's
 * network server (its NetID), and in BI 1.1 SenderNSID its NSID.
 */
function checkNetworkServerSender(header: RequestHeader, peer: Peer): Failure | undefined {
  if (peer.kind !== 'ns') return failure('UnknownSender', `${peer.name} is not a network server`);
  let senderNetID;
  try {
    senderNetID = parseNetID(header.senderID, 'SenderID');
  } catch {
    return failure('UnknownSender', `SenderID ${header.senderID} is not a NetID`);
  }
  if (senderNetID !== peer.netID) return failure('UnknownSender', `SenderID ${senderNetID} does not match the NetID of ${peer.name}`);
  if (header.protocolVersion === '1.1' && peer.nsID !== null && header.senderNSID !== peer.nsID) {
    return failure('UnknownSender', `SenderNSID ${header.senderNSID ?? '(none)'} does not match the NSID of ${peer.name}`);
  }
  return undefined;
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

/**
 * The JoinAns (RejoinAns) of an accepted join, its fields set one by one in wire order (no
 * spreads, no intermediate objects: this is built for every accepted join). A 1.1 device
 * answered without OptNeg gets NwkSKey, and, for a peer that wants 1.1 fields, the same key as
 * FNwkSIntKey, SNwkSIntKey and NwkSEncKey.
 */
function joinAns(header: RequestHeader, joinEUI: string, a: JoinAnswer): BIReply {
  const answer: WireAnswer = answerHeader(header, joinEUI) as WireAnswer;
  answer.Result = { ResultCode: 'Success' };
  answer['PHYPayload'] = toHex(a.phyPayload);
  const k = a.networkKeys;
  if (k.kind === '1.1') {
    answer['FNwkSIntKey'] = wireEnvelope(k.fNwkSIntKey);
    answer['SNwkSIntKey'] = wireEnvelope(k.sNwkSIntKey);
    answer['NwkSEncKey'] = wireEnvelope(k.nwkSEncKey);
  } else {
    const nwkSKey = wireEnvelope(k.nwkSKey);
    answer['NwkSKey'] = nwkSKey;
    if (a.legacyKeysAs11) {
      answer['FNwkSIntKey'] = nwkSKey;
      answer['SNwkSIntKey'] = nwkSKey;
      answer['NwkSEncKey'] = nwkSKey;
    }
  }
  answer['AppSKey'] = wireEnvelope(a.appSKey);
  if (a.sessionKeyID !== undefined) answer['SessionKeyID'] = a.sessionKeyID;
  return { kind: 'answer', answer };
}
