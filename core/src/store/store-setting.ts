/**
 * The store-wide settings (`store_settings`, one text value per name):
 *
 * - `master-key-check`: the check value of the master key that seals (see master-key-check),
 *   never the key; a key that does not give it is refused before anything is sealed under it.
 */
export type StoreSettingName = 'master-key-check';
