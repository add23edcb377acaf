import { deviceAcceptsJoinNonce } from './device-join-nonce-rule';
import { MAC_VERSIONS } from './mac-version';

describe('deviceAcceptsJoinNonce', () => {
  test.each(MAC_VERSIONS)('%s: a device at power on (stored 0) drops JoinNonce 0 and accepts 1', (v) => {
    expect(deviceAcceptsJoinNonce(v, 0, 0)).toEqual({ accepted: false, reason: expect.stringMatching(/^the device would drop this join-accept: JoinNonce 0 /) });
    expect(deviceAcceptsJoinNonce(v, 0, 1)).toEqual({ accepted: true });
  });

  test.each(['1.1', '1.0.4'] as const)('%s: only a greater JoinNonce is accepted', (v) => {
    expect(deviceAcceptsJoinNonce(v, 7, 8)).toEqual({ accepted: true });
    expect(deviceAcceptsJoinNonce(v, 7, 0xffffff)).toEqual({ accepted: true });
    expect(deviceAcceptsJoinNonce(v, 7, 7)).toEqual({ accepted: false, reason: 'the device would drop this join-accept: JoinNonce 7 is not greater than its stored 7' });
    expect(deviceAcceptsJoinNonce(v, 7, 3)).toEqual({ accepted: false, reason: 'the device would drop this join-accept: JoinNonce 3 is not greater than its stored 7' });
  });

  test.each(['1.0.0', '1.0.1', '1.0.2', '1.0.3'] as const)('%s: any JoinNonce but the stored one is accepted, a lower one too', (v) => {
    expect(deviceAcceptsJoinNonce(v, 7, 8)).toEqual({ accepted: true });
    expect(deviceAcceptsJoinNonce(v, 7, 3)).toEqual({ accepted: true });
    expect(deviceAcceptsJoinNonce(v, 7, 7)).toEqual({ accepted: false, reason: 'the device would drop this join-accept: JoinNonce 7 is the same as its stored 7' });
  });
});
