import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from '../log/logger';
import type { JoineryMetrics } from '../metrics/metrics';
import { joinEventTopic, type JoinEvent } from './join-event';

export interface MqttJoinEventsOptions {
  /** mqtt://[user:password@]host[:port], mqtts://, ws://, wss:// */
  readonly url: string;
  readonly topicPrefix: string;
  readonly qos: 0 | 1;
  /** Events waiting (for the broker, or for its acknowledgement) at most; beyond, dropped. */
  readonly queueSize: number;
  /** How long close() waits for queued events to go out. */
  readonly closeTimeoutMs?: number;
}

/** In flight to the broker at once (a bound of its own within the queue). */
const MAX_IN_FLIGHT = 100;

/**
 * Publishes join events to an MQTT broker without ever holding up a join: `publish` only
 * queues (bounded: a full queue drops the event, counted in `joinery_join_events_total
 * {outcome="dropped"}`); events go out while the client is connected; the client reconnects
 * on its own. The broker's URL is never logged with its password.
 */
export class MqttJoinEvents {
  private readonly client: MqttClient;
  private readonly queue: { topic: string; payload: string }[] = [];
  private inFlight = 0;
  private droppedSinceLog = 0;
  private wasConnected = false;
  private closed = false;
  private idle: (() => void) | undefined;

  constructor(
    private readonly options: MqttJoinEventsOptions,
    private readonly log: Logger,
    private readonly metrics: JoineryMetrics,
  ) {
    const clientOptions: IClientOptions = {
      reconnectPeriod: 1000,
      connectTimeout: 5000,
      clientId: `joinery-${process.pid}-${Math.random().toString(16).slice(2, 10)}`,
      queueQoSZero: false,
      resubscribe: false,
    };
    this.client = connect(options.url, clientOptions);
    this.metrics.mqttConnected.set(0);
    this.client.on('connect', () => {
      this.wasConnected = true;
      this.metrics.mqttConnected.set(1);
      this.log.info({ broker: safeURL(options.url) }, 'mqtt connected: publishing join events');
      this.pump();
    });
    this.client.on('close', () => {
      this.metrics.mqttConnected.set(0);
      if (this.wasConnected && !this.closed) this.log.warn({ broker: safeURL(options.url), queued: this.queue.length }, 'mqtt disconnected: join events are queued (bounded), reconnecting');
      this.wasConnected = false;
    });
    // Without a listener, an error event would end the process; a refused connection is retried.
    let lastError = '';
    this.client.on('error', (err) => {
      if (err.message !== lastError) this.log.warn({ broker: safeURL(options.url), err: err.message }, 'mqtt error');
      lastError = err.message;
    });
  }

  /** Queues a join event (never waits, never throws). */
  publish(event: JoinEvent): void {
    if (this.closed) return;
    if (this.queue.length + this.inFlight >= this.options.queueSize) {
      this.metrics.joinEvents.inc({ outcome: 'dropped' });
      if (this.droppedSinceLog++ === 0) this.log.warn({ queueSize: this.options.queueSize }, 'mqtt join event queue full: dropping join events until the broker catches up');
      return;
    }
    this.queue.push({ topic: joinEventTopic(this.options.topicPrefix, event), payload: JSON.stringify(event) });
    this.metrics.joinEventsQueued.set(this.queue.length);
    this.pump();
  }

  private pump(): void {
    while (this.client.connected && this.queue.length > 0 && this.inFlight < MAX_IN_FLIGHT) {
      const message = this.queue.shift()!;
      this.inFlight++;
      this.client.publish(message.topic, message.payload, { qos: this.options.qos }, (err) => {
        this.inFlight--;
        this.metrics.joinEvents.inc({ outcome: err ? 'failed' : 'published' });
        if (err) this.log.warn({ err: err.message }, 'mqtt join event not published');
        if (!err && this.droppedSinceLog > 0) {
          this.log.info({ dropped: this.droppedSinceLog }, 'mqtt join events flowing again');
          this.droppedSinceLog = 0;
        }
        this.pump();
      });
    }
    this.metrics.joinEventsQueued.set(this.queue.length);
    if (this.queue.length === 0 && this.inFlight === 0) this.idle?.();
  }

  /** Lets queued events go out (bounded by closeTimeoutMs, default 2 s), then disconnects. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.client.connected && (this.queue.length > 0 || this.inFlight > 0)) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.options.closeTimeoutMs ?? 2000);
        this.idle = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    this.closed = true;
    await this.client.endAsync(true);
  }
}

/** The broker's URL without its password. */
export function safeURL(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.href;
  } catch {
    return '(unparsable URL)';
  }
}
