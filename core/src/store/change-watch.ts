/**
 * A store's change counters (`change_counters`: bumped by every write that the caches of other
 * processes must see), read at most once per turn of the event loop: every lookup of that turn
 * shares the one read. A change committed before a turn began is seen by every lookup of that
 * turn; under load, one read serves every request of the turn.
 */
export class ChangeWatch<T> {
  readonly #read: () => Promise<T>;
  #turn: Promise<T> | null = null;

  constructor(read: () => Promise<T>) {
    this.#read = read;
  }

  current(): Promise<T> {
    if (this.#turn === null) {
      const turn = this.#read();
      this.#turn = turn;
      setImmediate(() => {
        if (this.#turn === turn) this.#turn = null;
      });
    }
    return this.#turn;
  }
}
