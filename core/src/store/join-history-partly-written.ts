/**
 * `appendJoinRecords` failed after the first `handled` records of its batch were written, of
 * them `stored` (the others were of unknown devices, skipped): SQLite's history thread writes a
 * batch in several short transactions, and those before the failing one stay committed. The
 * records after `handled` were not written. `cause` is the failure. A failure before any record
 * is written is thrown as it is, not as this.
 */
export class JoinHistoryPartlyWrittenError extends Error {
  override readonly name = 'JoinHistoryPartlyWrittenError';

  constructor(
    readonly handled: number,
    readonly stored: number,
    cause: unknown,
  ) {
    super(`join history: ${handled} records handled before a failure: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}
