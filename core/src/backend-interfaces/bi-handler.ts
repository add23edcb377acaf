import { AppSKeyService } from '../join/app-s-key-service';
import { failure, type Failure } from '../join/failure';
import type { JoinAnswer } from '../join/join-answer';
import type { JoinEngine } from '../join/join-engine';
import type { KeyEnvelope } from '../join/key-envelope';
import { toHex } from '../lorawan/hex';
import { parseNetID } from '../lorawan/identifiers';
import { ParseError } from '../lorawan/parse-error';
import type { Logger } from '../log/logger';
import type { Peer } from '../peers/peer';
import type { Store } from '../store/store';
import { answerHeader } from './answer-header';
import type { WireAnswer, WireAnswerHeader, WireKeyEnvelope, WireResult } from './messages';
import { parseAppSKeyReq } from './parse-app-s-key-req';
import { parseJoinReq } from './parse-join-req';
import { parseRequestHeader, type RequestHeader } from './request-header';
import { resultCodeFor } from './result-table';

/** Who is asking, as the transport established it (the TLS client certificate). */
export interface CallerIdentity {
  /** SHA-256 of the client certificate's DER; null when there is none. */
  readonly certFingerprint: string | null;
}

/**
 * The Backend Interfaces request handler, independent of HTTP: one JSON object in, one BI
 * answer out. Every protocol outcome, refusals included, is an answer with a `Result`.
 */
export class BackendInterfacesHandler {
  private readonly appSKeys: AppSKeyService;

  constructor(
    private readonly store: Store,
    private readonly engine: JoinEngine,
    appSKeys: AppSKeyService,
    private readonly log: Logger,
  ) {
    this.appSKeys = appSKeys;
  }

  async handle(body: Record<string, unknown>, caller: CallerIdentity): Promise<WireAnswer> {
    const started = process.hrtime.bigint();
    const { header, problem } = parseRequestHeader(body);
    const devEUI = typeof body['DevEUI'] === 'string' ? body['DevEUI'] : undefined;
    let peer: Peer | null = null;
    let answer: WireAnswer;
    try {
      peer = caller.certFingerprint === null ? null : await this.store.getPeerByFingerprint(caller.certFingerprint);
      answer = await this.dispatch(body, header, problem, peer);
    } catch (err) {
      this.log.error({ err: describeError(err), messageType: header.messageType, devEUI }, 'backend interfaces request failed');
      answer = refusal(header, failure('Internal', 'internal error in the Join Server; see its log'));
    }
    const latencyMs = Number(process.hrtime.bigint() - started) / 1e6;
    const result = answer.Result;
    this.log.info(
      {
        messageType: header.messageType,
        transactionID: header.transactionID,
        devEUI,
        peer: peer?.name,
        result: result.ResultCode,
        ...(result.ResultCode === 'Success' ? {} : { description: result.Description }),
        latencyMs: Math.round(latencyMs * 1000) / 1000,
      },
      'bi request',
    );
    return answer;
  }

  private async dispatch(body: Record<string, unknown>, header: RequestHeader, problem: ParseError | undefined, peer: Peer | null): Promise<WireAnswer> {
    if (!header.protocolVersionValid) {
      return refusal(header, failure('InvalidProtocolVersion', `ProtocolVersion ${JSON.stringify(body['ProtocolVersion'] ?? null)} is not 1.0 or 1.1`));
    }
    if (problem) return refusal(header, failure('Malformed', problem.message));
    if (peer === null) return refusal(header, failure('UnknownSender', 'the client certificate does not belong to a registered peer'));

    switch (header.messageType) {
      case 'JoinReq':
        return this.joinReq(body, header, peer);
      case 'AppSKeyReq':
        return this.appSKeyReq(body, header, peer);
      default:
        return refusal(header, failure('Unsupported', `MessageType ${header.messageType} is not handled by this Join Server`));
    }
  }

  private async joinReq(body: Record<string, unknown>, header: RequestHeader, peer: Peer): Promise<WireAnswer> {
    if (peer.kind !== 'ns') return refusal(header, failure('UnknownSender', `${peer.name} is not a network server`));
    const senderMismatch = this.checkNetworkServerSender(header, peer.netID, peer.nsID, peer.name);
    if (senderMismatch) return refusal(header, senderMismatch);
    let input;
    try {
      input = parseJoinReq(body, header);
    } catch (e) {
      if (e instanceof ParseError) return refusal(header, failure('Malformed', e.message));
      throw e;
    }
    const outcome = await this.engine.join(input, peer);
    if (!outcome.ok) return refusal(header, outcome, input.receiverJoinEUI);
    return joinAns(header, input.receiverJoinEUI, outcome);
  }

  private async appSKeyReq(body: Record<string, unknown>, header: RequestHeader, peer: Peer): Promise<WireAnswer> {
    let input;
    try {
      input = parseAppSKeyReq(body, header);
    } catch (e) {
      if (e instanceof ParseError) return refusal(header, failure('Malformed', e.message));
      throw e;
    }
    const outcome = await this.appSKeys.appSKey(input, peer);
    const base = { ...answerHeader(header, canonicalReceiver(header)), DevEUI: input.devEUI, SessionKeyID: input.sessionKeyID };
    if (!outcome.ok) return { ...base, Result: wireResult(outcome, header) };
    return { ...base, Result: { ResultCode: 'Success' }, AppSKey: wireEnvelope(outcome.appSKey) };
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

function refusal(header: RequestHeader, f: Failure, senderID?: string): WireAnswer {
  const h: WireAnswerHeader = answerHeader(header, senderID ?? canonicalReceiver(header));
  return { ...h, Result: wireResult(f, header) };
}

function wireEnvelope(e: KeyEnvelope): WireKeyEnvelope {
  return { KEKLabel: e.kekLabel, AESKey: toHex(e.aesKey) };
}

function joinAns(header: RequestHeader, joinEUI: string, a: JoinAnswer): WireAnswer {
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
  return ans;
}
