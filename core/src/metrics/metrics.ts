import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/**
 * The Join Server's Prometheus metrics, one registry per server (served at `/metrics` on the
 * admin listener). Labels never carry a key, and never a DevEUI (unbounded cardinality).
 */
export class JoineryMetrics {
  readonly registry = new Registry();

  /** Every BI request answered, by message type, BI result code and peer. */
  readonly biRequests = new Counter({
    name: 'joinery_bi_requests_total',
    help: 'Backend Interfaces requests answered, by message type, result code and peer',
    labelNames: ['message_type', 'result', 'peer'] as const,
    registers: [this.registry],
  });

  readonly biLatency = new Histogram({
    name: 'joinery_bi_request_duration_seconds',
    help: 'Time to answer a Backend Interfaces request, by message type',
    labelNames: ['message_type'] as const,
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });

  /** ErrorNotif messages peers sent us, by the result code they notify. */
  readonly errorNotifs = new Counter({
    name: 'joinery_error_notifs_received_total',
    help: 'ErrorNotif messages received, by notified result code and peer',
    labelNames: ['result', 'peer'] as const,
    registers: [this.registry],
  });

  /** Answers sent to async peers: delivered, retried, or given up. */
  readonly asyncAnswers = new Counter({
    name: 'joinery_async_answers_total',
    help: 'Asynchronous BI answers, by outcome (delivered, retry, failed) and peer',
    labelNames: ['outcome', 'peer'] as const,
    registers: [this.registry],
  });

  constructor(options: { readonly processMetrics?: boolean } = {}) {
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'joinery_' });
  }
}
