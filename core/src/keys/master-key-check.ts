import { createHmac } from 'node:crypto';
import type { MasterKey, MasterKeyRing } from './master-key';

const LABEL = 'joinery master key check v1';

/**
 * The check value of a master key: `v1:` and the first 16 bytes of HMAC-SHA256(key, label), in
 * hex. It tells whether a key is the one a store's data is sealed under; it reveals nothing of
 * the key (a one-way function of it), so the store may keep it next to the sealed blobs.
 */
export function masterKeyCheckValue(key: MasterKey): string {
  return `v1:${createHmac('sha256', key.unsafeBytes()).update(LABEL).digest().subarray(0, 16).toString('hex')}`;
}

/** True when one of the ring's keys has the check value `check`. */
export function ringHoldsCheckedKey(ring: MasterKeyRing, check: string): boolean {
  for (const key of ring.keys.values()) if (masterKeyCheckValue(key) === check) return true;
  return false;
}
