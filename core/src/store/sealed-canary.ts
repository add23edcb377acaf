import type { EUI64 } from '../lorawan/identifiers';

/**
 * One sealed blob from the store that its vault must be able to open: a device's root keys
 * (sealed by the vault of that kind), else a peer's KEK. Opening it proves the vault holds the
 * key the store's data is sealed under.
 */
export type SealedCanary = { readonly kind: 'device'; readonly devEUI: EUI64; readonly sealed: Buffer } | { readonly kind: 'peer'; readonly name: string; readonly sealed: Buffer };
