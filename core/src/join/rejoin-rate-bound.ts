import type { RejoinWindow } from '../store/device';
import { failure, type Failure } from './failure';

/** Rejoins accepted per device per window by default. */
export const DEFAULT_REJOINS_PER_HOUR = 10;
export const REJOIN_WINDOW_MS = 60 * 60 * 1000;

/**
 * The bound on the rejoins a device is accepted: every accepted rejoin costs a JoinNonce, so a
 * network server that forwards rejoins without end would exhaust the device's 24-bit counter
 * (and the device would be refused for good). A window opens with the first rejoin accepted
 * after the previous one closed and lasts an hour; it accepts at most `limit` rejoins. The
 * window is part of the device's nonce state, written by the same conditional commit as the
 * JoinNonce, so it holds across every instance sharing a store.
 */
export function countRejoin(window: RejoinWindow | null, now: Date, limit: number): { readonly ok: true; readonly window: RejoinWindow } | Failure {
  // A window that starts after `now` (another instance's clock ahead) is still open: a clock
  // behind never opens a fresh window early.
  if (window === null || now.getTime() - window.start.getTime() >= REJOIN_WINDOW_MS) {
    return limit < 1 ? refused(limit) : { ok: true, window: { start: now, count: 1 } };
  }
  if (window.count >= limit) return refused(limit);
  return { ok: true, window: { start: window.start, count: window.count + 1 } };
}

function refused(limit: number): Failure {
  return failure('RejoinRateExceeded', `this device was accepted ${limit} rejoin-requests within the hour, the most it is accepted (serve --rejoins-per-hour); a rejoin costs a JoinNonce`);
}
