import { devNonceIsCounter, type MACVersion } from '../lorawan/mac-version';
import type { DevNonce } from '../lorawan/nonces';
import type { NonceState } from '../store/device';
import { failure, type Failure } from './failure';

export const DEFAULT_USED_DEV_NONCES = 64;

/**
 * DevNonce rules: from 1.0.4 on, and in 1.1, DevNonce is a counter and must be strictly
 * greater than the last accepted one. 1.0.0-1.0.3 devices send random DevNonces: the Join
 * Server remembers the last `usedLimit` values and refuses a repeat.
 *
 * Returns the nonce state to write if the join is accepted (JoinNonce is the caller's).
 */
export function acceptDevNonce(macVersion: MACVersion, state: NonceState, devNonce: DevNonce, usedLimit: number): { readonly ok: true; readonly next: Pick<NonceState, 'lastDevNonce' | 'usedDevNonces'> } | Failure {
  if (devNonceIsCounter(macVersion)) {
    if (state.lastDevNonce !== null && devNonce <= state.lastDevNonce) {
      return failure('DevNonceReplayed', `DevNonce ${devNonce} is not greater than the last accepted DevNonce ${state.lastDevNonce} (LoRaWAN ${macVersion} DevNonce is a counter)`);
    }
    return { ok: true, next: { lastDevNonce: devNonce, usedDevNonces: state.usedDevNonces } };
  }
  if (state.usedDevNonces.includes(devNonce)) {
    return failure('DevNonceReplayed', `DevNonce ${devNonce} has already been used`);
  }
  const used = [...state.usedDevNonces, devNonce];
  return {
    ok: true,
    next: { lastDevNonce: devNonce, usedDevNonces: used.length > usedLimit ? used.slice(used.length - usedLimit) : used },
  };
}
