import { awaitStore } from './await-store';

const AT = { host: '127.0.0.1', port: 0 };

function unreachable(): Error {
  return Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
}

describe('awaitStore', () => {
  test('a store away is tried again, each attempt said, with a stand-in admin listener (/healthz 200, /readyz 503) until it answers', async () => {
    const lines: string[] = [];
    let attempts = 0;
    let readyz = 0;
    let healthz = 0;
    const result = await awaitStore(
      async () => {
        attempts++;
        if (attempts === 2) {
          const url = /admin on (http:\/\/\S+\/)/.exec(lines.join('\n'))![1]!;
          readyz = (await fetch(new URL('readyz', url))).status;
          healthz = (await fetch(new URL('healthz', url))).status;
        }
        if (attempts < 3) throw unreachable();
        return 'opened';
      },
      { adminListen: AT, exitOnFailure: false, say: (l) => lines.push(l) },
    );
    expect(result.value).toBe('opened');
    expect(result.adminListen.port).toBeGreaterThan(0);
    expect({ readyz, healthz }).toEqual({ readyz: 503, healthz: 200 });
    expect(lines.filter((l) => l.includes('the store is unreachable'))).toEqual([
      'joinery: the store is unreachable (attempt 1: connect ECONNREFUSED 127.0.0.1:5432); trying again in 0.5 s',
      'joinery: the store is unreachable (attempt 2: connect ECONNREFUSED 127.0.0.1:5432); trying again in 1.0 s',
    ]);
    expect(lines.at(-1)).toBe('joinery: the store answers');
  });

  test('any other failure, and with exitOnFailure the first, is thrown at once', async () => {
    const say = jest.fn();
    await expect(awaitStore(() => Promise.reject(new Error('password authentication failed')), { adminListen: AT, exitOnFailure: false, say })).rejects.toThrow('password authentication failed');
    await expect(awaitStore(() => Promise.reject(unreachable()), { adminListen: AT, exitOnFailure: true, say })).rejects.toThrow('ECONNREFUSED');
    expect(say).not.toHaveBeenCalled();
  });
});
