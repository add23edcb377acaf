import * as pkcs11js from 'pkcs11js';
import { ckrOf, pkcs11Failure, Pkcs11VaultError } from './pkcs11-error';

/** One PKCS#11 session of the pool. */
export class Pkcs11Session {
  /** Session objects created in this session that still exist: PKCS#11 destroys them with it. */
  objects = 0;
  /** Taken out of rotation after a failure; closed once it owns no more objects. */
  retired = false;
  closed = false;

  constructor(readonly handle: Buffer) {}
}

/**
 * The vault's sessions. A PKCS#11 session runs one operation at a time, so every operation
 * (`C_SignInit` + `C_Sign`, `C_DeriveKey`, `C_WrapKey`...) takes a session of its own for its
 * whole length, and `size` sessions let that many run at once on libuv's thread pool. Callers
 * beyond that wait in line (first come, first served).
 *
 * - A session on which anything failed is retired, never reused: a failed `C_Sign` can leave
 *   its signing operation active (`CKR_OPERATION_ACTIVE` for the next `C_SignInit`). Its
 *   session objects (derived keys still in use elsewhere) die with it, so it is closed only once
 *   the last of them has been destroyed.
 * - The anchor session holds the login (PKCS#11 logs an application out when its last session
 *   closes) and serves the short synchronous calls made from the JavaScript thread (find,
 *   create and destroy object), which therefore never share a session with a thread-pool call.
 */
export class Pkcs11SessionPool {
  readonly #module: pkcs11js.PKCS11;
  readonly #slot: Buffer;
  readonly #size: number;
  readonly #anchor: Pkcs11Session;
  readonly #idle: Pkcs11Session[] = [];
  readonly #sessions = new Set<Pkcs11Session>();
  #waiters: Array<{ resolve: (s: Pkcs11Session) => void; reject: (e: Error) => void }> = [];
  #inUse = 0;
  #drained: (() => void) | null = null;
  #closed = false;

  private constructor(module: pkcs11js.PKCS11, slot: Buffer, size: number, anchor: Pkcs11Session) {
    this.#module = module;
    this.#slot = slot;
    this.#size = size;
    this.#anchor = anchor;
  }

  /** Opens the anchor session and logs the user in with `pin`. */
  static open(module: pkcs11js.PKCS11, slot: Buffer, tokenLabel: string, pin: string, size: number): Pkcs11SessionPool {
    if (!Number.isInteger(size) || size < 1) throw new RangeError('the PKCS#11 session pool needs at least one session');
    let handle: Buffer;
    try {
      handle = module.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    } catch (err) {
      throw pkcs11Failure(`C_OpenSession on token "${tokenLabel}"`, err);
    }
    try {
      module.C_Login(handle, pkcs11js.CKU_USER, pin);
    } catch (err) {
      // Another vault of this process on the same token has already logged the application in.
      if (ckrOf(err) !== 'CKR_USER_ALREADY_LOGGED_IN') {
        try {
          module.C_CloseSession(handle);
        } catch {
          // nothing more to do
        }
        throw pkcs11Failure(`C_Login to token "${tokenLabel}"`, err);
      }
    }
    return new Pkcs11SessionPool(module, slot, size, new Pkcs11Session(handle));
  }

  /** The anchor session (objects created on it live as long as the pool). */
  get anchor(): Pkcs11Session {
    return this.#anchor;
  }

  get size(): number {
    return this.#size;
  }

  /** Sessions open now, the anchor included (for tests and metrics). */
  get openSessions(): number {
    return this.#sessions.size + 1;
  }

  /**
   * Runs `fn` on a session of its own. Anything it throws retires the session and comes back
   * as a Pkcs11VaultError naming `operation`.
   */
  async use<T>(operation: string, fn: (session: Pkcs11Session) => Promise<T> | T): Promise<T> {
    const session = await this.#acquire();
    let failed = false;
    try {
      return await fn(session);
    } catch (err) {
      failed = true;
      throw pkcs11Failure(operation, err);
    } finally {
      this.#release(session, failed);
    }
  }

  /** Runs a short synchronous call on the anchor session, from the JavaScript thread. */
  sync<T>(operation: string, fn: (session: Pkcs11Session) => T): T {
    if (this.#closed) throw closedError();
    try {
      return fn(this.#anchor);
    } catch (err) {
      throw pkcs11Failure(operation, err);
    }
  }

  /** Records that `session` created a session object. */
  objectCreated(session: Pkcs11Session): void {
    session.objects++;
  }

  /** Records that a session object `session` created was destroyed. */
  objectDestroyed(session: Pkcs11Session): void {
    session.objects--;
    if (session.retired && session.objects <= 0 && session !== this.#anchor) this.#close(session);
  }

  /** Waits for running operations, then closes every session (and so destroys every session object). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.reject(closedError());
    if (this.#inUse > 0) await new Promise<void>((resolve) => (this.#drained = resolve));
    for (const s of [...this.#sessions]) this.#close(s);
    this.#closeHandle(this.#anchor);
  }

  async #acquire(): Promise<Pkcs11Session> {
    if (this.#closed) throw closedError();
    const idle = this.#idle.pop();
    if (idle) {
      this.#inUse++;
      return idle;
    }
    if (this.#countActive() < this.#size) {
      let handle: Buffer;
      try {
        handle = this.#module.C_OpenSession(this.#slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
      } catch (err) {
        throw pkcs11Failure('C_OpenSession', err);
      }
      const session = new Pkcs11Session(handle);
      this.#sessions.add(session);
      this.#inUse++;
      return session;
    }
    return new Promise<Pkcs11Session>((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  #release(session: Pkcs11Session, failed: boolean): void {
    if (failed) {
      session.retired = true;
      if (session.objects <= 0) this.#close(session);
    }
    const waiter = this.#closed ? undefined : this.#waiters.shift();
    if (waiter) {
      if (!session.retired) {
        waiter.resolve(session); // handed over: still in use
        return;
      }
      // The retired session's place goes to a new one.
      this.#inUse--;
      this.#acquire().then(waiter.resolve, waiter.reject);
      return;
    }
    this.#inUse--;
    if (!session.retired && !this.#closed) this.#idle.push(session);
    if (this.#inUse === 0 && this.#drained) {
      const done = this.#drained;
      this.#drained = null;
      done();
    }
  }

  /** Sessions that count against the pool size: open and not retired. */
  #countActive(): number {
    let n = 0;
    for (const s of this.#sessions) if (!s.retired) n++;
    return n;
  }

  #close(session: Pkcs11Session): void {
    this.#sessions.delete(session);
    const i = this.#idle.indexOf(session);
    if (i >= 0) this.#idle.splice(i, 1);
    this.#closeHandle(session);
  }

  #closeHandle(session: Pkcs11Session): void {
    if (session.closed) return;
    session.closed = true;
    try {
      this.#module.C_CloseSession(session.handle);
    } catch {
      // a session the module already dropped
    }
  }
}

function closedError(): Pkcs11VaultError {
  return new Pkcs11VaultError('the PKCS#11 key vault is closed');
}
