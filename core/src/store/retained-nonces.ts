/**
 * What a deleted device leaves behind: its whole nonce state, in `retained_nonces`, keyed by
 * DevEUI and JoinEUI. A device inserted again with that DevEUI and JoinEUI takes it back (and
 * the row goes), so deleting a device and importing it again never accepts one of its old
 * join-requests nor repeats one of its JoinNonces (the same root keys would give the same
 * session keys). Another JoinEUI is another identity and starts afresh.
 *
 * The columns are the devices table's nonce columns, with the same types, so the state moves
 * as whole columns in one set-based statement each way, inside the transaction of the delete
 * and of the insert. A nonce column added to devices is added to retained_nonces, and here,
 * in the same migration.
 */
export const NONCE_COLUMNS = ['last_dev_nonce', 'used_dev_nonces', 'last_join_nonce', 'last_rj_count1', 'last_rj_count0', 'rejoin_window_start', 'rejoin_window_count'] as const;

const LIST = NONCE_COLUMNS.join(', ');

/** The INSERT of a deleted device's row(s) `source` (selecting dev_eui, join_eui and the nonce columns), replacing what an earlier delete left. */
export function retainNoncesSQL(source: string): string {
  return `INSERT INTO retained_nonces (dev_eui, join_eui, ${LIST}) ${source}
    ON CONFLICT (dev_eui, join_eui) DO UPDATE SET ${NONCE_COLUMNS.map((c) => `${c} = excluded.${c}`).join(', ')}`;
}

/** `SELECT dev_eui, join_eui, <nonce columns>`, the source of retainNoncesSQL. */
export const RETAINED_COLUMNS = `dev_eui, join_eui, ${LIST}`;

/** The SET list that copies the nonce columns of `from` into devices. */
export function restoreNoncesSet(from: string): string {
  return NONCE_COLUMNS.map((c) => `${c} = ${from}.${c}`).join(', ');
}
