import { devNonce, joinNonce } from '../lorawan/nonces';
import { EMPTY_NONCE_STATE, type NonceState } from '../store/device';
import { acceptDevNonce } from './dev-nonce-policy';
import { nextJoinNonce } from './next-join-nonce';

const state = (s: Partial<NonceState>): NonceState => ({ ...EMPTY_NONCE_STATE, ...s });

describe('join/dev-nonce policy', () => {
  test.each(['1.0.4', '1.1'] as const)('%s/counter: strictly increasing', (v) => {
    expect(acceptDevNonce(v, state({}), devNonce(0), 64).ok).toBe(true);
    expect(acceptDevNonce(v, state({ lastDevNonce: devNonce(5) }), devNonce(6), 64).ok).toBe(true);
    const equal = acceptDevNonce(v, state({ lastDevNonce: devNonce(5) }), devNonce(5), 64);
    expect(equal.ok).toBe(false);
    expect(!equal.ok && equal.code).toBe('DevNonceReplayed');
    expect(acceptDevNonce(v, state({ lastDevNonce: devNonce(5) }), devNonce(4), 64).ok).toBe(false);
  });

  test.each(['1.0.0', '1.0.1', '1.0.2', '1.0.3'] as const)('%s/random: a used value is refused, lower values are fine', (v) => {
    const s = state({ usedDevNonces: [devNonce(100), devNonce(7)] });
    expect(acceptDevNonce(v, s, devNonce(7), 64).ok).toBe(false);
    const ok = acceptDevNonce(v, s, devNonce(3), 64);
    expect(ok.ok && ok.next.usedDevNonces).toEqual([100, 7, 3]);
  });

  test('1.0.3/random: the used set is bounded, oldest out first', () => {
    let s = state({});
    for (let n = 0; n < 10; n++) {
      const r = acceptDevNonce('1.0.3', s, devNonce(n), 4);
      if (!r.ok) throw new Error('refused');
      s = { ...s, ...r.next };
    }
    expect(s.usedDevNonces).toEqual([6, 7, 8, 9]);
    // Forgotten values are accepted again: that is what "bounded" costs.
    expect(acceptDevNonce('1.0.3', s, devNonce(0), 4).ok).toBe(true);
    expect(acceptDevNonce('1.0.3', s, devNonce(9), 4).ok).toBe(false);
  });
});

describe('join/join-nonce', () => {
  test('starts at 1 (a device at power on drops JoinNonce 0) and counts up', () => {
    const first = nextJoinNonce(null);
    expect(first.ok && first.joinNonce).toBe(1);
    const afterZero = nextJoinNonce(joinNonce(0));
    expect(afterZero.ok && afterZero.joinNonce).toBe(1);
    const next = nextJoinNonce(joinNonce(41));
    expect(next.ok && next.joinNonce).toBe(42);
  });
  test('exhausted counter is refused, never wrapped', () => {
    const r = nextJoinNonce(joinNonce(0xffffff));
    expect(r.ok).toBe(false);
    expect(!r.ok && r.code).toBe('JoinNonceExhausted');
  });
});
