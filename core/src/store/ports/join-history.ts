import type { EUI64 } from '../../lorawan/identifiers';
import type { JoinRecord } from '../join-record';
import type { JoinRateBucket, JoinRateQuery } from '../join-rate';

/** Every device's recent join attempts (the join history recorder writes, the admin API reads). */
export interface JoinHistory {
  /**
   * Appends join records of devices that exist (records of unknown DevEUIs are skipped) and
   * keeps only the newest `keep` of each device, in one transaction (SQLite's history thread:
   * in short ones, so that join commits never wait for a whole batch; if one fails, those
   * before it stay written and JoinHistoryPartlyWrittenError says how many). Returns how many
   * were stored.
   */
  appendJoinRecords(records: readonly JoinRecord[], keep: number): Promise<number>;
  /** A device's join records, newest first. */
  listJoinRecords(devEUI: EUI64, limit: number): Promise<JoinRecord[]>;
  /** Join attempts per minute of the window, accepted and refused, from the join history (join-rate.ts). */
  joinRate(query: JoinRateQuery): Promise<JoinRateBucket[]>;
}
