import { MAX_JOIN_NONCE, type JoinNonce } from '../lorawan/nonces';
import { failure, type Failure } from './failure';

/**
 * JoinNonce is a per-device 24-bit counter, never reused: a device checks that it increases.
 * An exhausted counter is refused, never wrapped around.
 */
export function nextJoinNonce(last: JoinNonce | null): { readonly ok: true; readonly joinNonce: JoinNonce } | Failure {
  const next = last === null ? 1 : last + 1;
  if (next > MAX_JOIN_NONCE) {
    return failure('JoinNonceExhausted', 'the JoinNonce counter of this device is exhausted (24 bits); it needs new root keys');
  }
  return { ok: true, joinNonce: next as JoinNonce };
}
