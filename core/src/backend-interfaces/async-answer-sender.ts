import * as https from 'node:https';
import type { Logger } from '../log/logger';
import { backoffDelay, sleep } from '../retry/backoff';
import type { JoineryMetrics } from '../metrics/metrics';
import type { WireAnswer } from './messages';

/** Where an asynchronous peer wants its answers: its own BI listener. */
export interface AsyncAnswerTarget {
  readonly peerName: string;
  readonly url: string;
  /** CA that verifies the peer's server certificate (PEM); absent = the system's CAs. */
  readonly caPem: string | undefined;
}

export interface AsyncAnswerSenderOptions {
  /** The Join Server's client certificate (mTLS towards the peer). */
  readonly clientCertPem: string;
  readonly clientKeyPem: string;
  /** Attempts in all, including the first (default 5). */
  readonly attempts?: number;
  /** First retry delay; doubled each retry (default 250 ms). */
  readonly baseDelayMs?: number;
  /** Per attempt (default 5 s). */
  readonly timeoutMs?: number;
  /** Give up once this much time has passed since the request (ChirpStack waits 30 s; default 30 s). */
  readonly windowMs?: number;
}

export type DeliveryOutcome = { readonly delivered: true; readonly attempts: number } | { readonly delivered: false; readonly attempts: number; readonly reason: string };

/**
 * Delivers answers to peers in asynchronous mode: the request got HTTP 200 at once; the answer,
 * computed exactly once (its keys derived once, its JoinNonce issued once), is POSTed to the
 * peer's answer URL over mutual TLS, with bounded retries and exponential backoff within the
 * peer's window. A retry resends the same bytes. Delivery never blocks other requests: each
 * runs on its own, with a timeout per attempt.
 */
export class AsyncAnswerSender {
  private readonly attempts: number;
  private readonly baseDelayMs: number;
  private readonly timeoutMs: number;
  private readonly windowMs: number;
  private readonly inFlight = new Set<Promise<DeliveryOutcome>>();

  constructor(
    private readonly options: AsyncAnswerSenderOptions,
    private readonly log: Logger,
    private readonly metrics: JoineryMetrics,
  ) {
    this.attempts = Math.max(1, options.attempts ?? 5);
    this.baseDelayMs = options.baseDelayMs ?? 250;
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.windowMs = options.windowMs ?? 30_000;
  }

  /** Starts the delivery of `answer` (already computed) and returns at once. */
  send(target: AsyncAnswerTarget, answer: WireAnswer, receivedAt: number): Promise<DeliveryOutcome> {
    const body = Buffer.from(JSON.stringify(answer));
    const delivery = this.deliver(target, body, answer, receivedAt).finally(() => this.inFlight.delete(delivery));
    this.inFlight.add(delivery);
    return delivery;
  }

  /** Waits for every delivery under way (graceful shutdown). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }

  private async deliver(target: AsyncAnswerTarget, body: Buffer, answer: WireAnswer, receivedAt: number): Promise<DeliveryOutcome> {
    const context = { peer: target.peerName, messageType: answer.MessageType, transactionID: answer.TransactionID, url: target.url };
    let reason = '';
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      const remaining = receivedAt + this.windowMs - Date.now();
      if (remaining <= 0) {
        reason = `${reason ? `${reason}; ` : ''}the peer's ${this.windowMs} ms window has passed`;
        return this.failed(target, context, attempt - 1, reason);
      }
      try {
        const status = await this.post(target, body, Math.min(this.timeoutMs, remaining));
        if (status >= 200 && status < 300) {
          this.metrics.asyncAnswers.inc({ outcome: 'delivered', peer: target.peerName });
          this.log.info({ ...context, attempts: attempt }, 'async answer delivered');
          return { delivered: true, attempts: attempt };
        }
        reason = `HTTP ${status}`;
      } catch (err) {
        reason = err instanceof Error ? err.message : String(err);
      }
      if (attempt < this.attempts) {
        this.metrics.asyncAnswers.inc({ outcome: 'retry', peer: target.peerName });
        await sleep(backoffDelay(attempt, { initialMs: this.baseDelayMs, maxMs: Math.max(0, receivedAt + this.windowMs - Date.now()) }));
      }
    }
    return this.failed(target, context, this.attempts, reason);
  }

  private failed(target: AsyncAnswerTarget, context: Record<string, unknown>, attempts: number, reason: string): DeliveryOutcome {
    this.metrics.asyncAnswers.inc({ outcome: 'failed', peer: target.peerName });
    // The answer is dropped, never recomputed: a new JoinReq gets a new JoinNonce.
    this.log.warn({ ...context, attempts, reason }, 'async answer could not be delivered');
    return { delivered: false, attempts, reason };
  }

  private post(target: AsyncAnswerTarget, body: Buffer, timeoutMs: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = https.request(
        target.url,
        {
          method: 'POST',
          cert: this.options.clientCertPem,
          key: this.options.clientKeyPem,
          ...(target.caPem ? { ca: target.caPem } : {}),
          headers: { 'content-type': 'application/json', 'content-length': body.length },
          timeout: timeoutMs,
          agent: false,
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }
}
