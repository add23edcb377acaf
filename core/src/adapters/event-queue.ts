import type { EventWatch, NetworkServerEvent } from './network-server-event';

/**
 * The EventWatch plumbing adapters share: push events in (from an MQTT client), iterate them
 * out; close() runs the adapter's disconnect and ends every pending iteration.
 */
export class EventQueue implements EventWatch {
  private readonly buffered: NetworkServerEvent[] = [];
  private readonly waiting: Array<(r: IteratorResult<NetworkServerEvent>) => void> = [];
  private failure: Error | null = null;
  private failWaiting: Array<(e: Error) => void> = [];
  private closed = false;
  readonly ready: Promise<void>;
  private resolveReady!: () => void;
  private rejectReady!: (e: Error) => void;

  constructor(private readonly disconnect: () => Promise<void>) {
    this.ready = new Promise<void>((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.ready.catch(() => undefined);
  }

  markReady(): void {
    this.resolveReady();
  }

  push(event: NetworkServerEvent): void {
    if (this.closed) return;
    const w = this.waiting.shift();
    this.failWaiting.shift();
    if (w) w({ value: event, done: false });
    else this.buffered.push(event);
  }

  fail(err: Error): void {
    if (this.closed) return;
    this.failure = err;
    this.rejectReady(err);
    for (const f of this.failWaiting.splice(0)) f(err);
    this.waiting.splice(0);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.waiting.splice(0)) w({ value: undefined, done: true });
    this.failWaiting.splice(0);
    await this.disconnect();
  }

  [Symbol.asyncIterator](): AsyncIterator<NetworkServerEvent> {
    return {
      next: () => {
        const e = this.buffered.shift();
        if (e) return Promise.resolve({ value: e, done: false });
        if (this.failure) return Promise.reject(this.failure);
        if (this.closed) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve, reject) => {
          this.waiting.push(resolve);
          this.failWaiting.push(reject);
        });
      },
      return: async () => {
        await this.close();
        return { value: undefined, done: true };
      },
    };
  }
}
