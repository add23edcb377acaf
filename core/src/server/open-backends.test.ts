import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AES128Key } from '../lorawan/aes128-key';
import { createSoftHsmToken, softHsmUnavailable } from '../keys/softhsm-token.test-helper';
import { openBackends, type OpenBackendsOptions } from './open-backends';
import { parseBackendSettings } from './backend-settings';

let root: string;

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'joinery-open-backends-'));
});

afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

/** Seals the root keys of `devices` devices, opens each twice, and says how many stayed cached. */
async function cachedAfterJoins(dataDir: string, raw: Record<string, string>, env: NodeJS.ProcessEnv, options: OpenBackendsOptions, devices: number): Promise<number> {
  const backends = await openBackends(parseBackendSettings({ dataDir, ...raw }), env, options);
  try {
    const { vault } = backends;
    const sealed: [Buffer, string][] = [];
    for (let i = 0; i < devices; i++) {
      const devEUI = `00000000000c${i.toString(16).padStart(4, '0')}`;
      sealed.push([await vault.sealRootKeys({ kind: 'legacy', appKey: AES128Key.fromBytes(randomBytes(16)) }, devEUI), devEUI]);
    }
    for (let round = 0; round < 2; round++) for (const [s, devEUI] of sealed) await vault.openRootKeys(s, devEUI);
    return vault.cachedKeys;
  } finally {
    await backends.close();
  }
}

describe('openBackends/key cache size', () => {
  test('software vault: 10,000 by default, the size given otherwise, none with 0', async () => {
    const dataDir = path.join(root, 'software');
    expect(await cachedAfterJoins(dataDir, {}, {}, {}, 12)).toBe(12);
    // The LRU cache keeps its capacity at most (two generations of half of it).
    expect(await cachedAfterJoins(dataDir, {}, {}, { keyCacheSize: 4 }, 12)).toBeLessThanOrEqual(4);
    expect(await cachedAfterJoins(dataDir, {}, {}, { keyCacheSize: 4 }, 12)).toBeGreaterThan(0);
    expect(await cachedAfterJoins(dataDir, {}, {}, { keyCacheSize: 0 }, 12)).toBe(0);
  });

  const hsm = softHsmUnavailable();
  (hsm ? test.skip : test)(`PKCS#11 vault: the size given reaches it too${hsm ? ` (skipped: ${hsm})` : ''}`, async () => {
    const token = createSoftHsmToken('open-backends');
    const raw = { vault: 'pkcs11', pkcs11Lib: token.library, pkcs11Token: token.label };
    const env = { ...process.env, ...token.env };
    const dataDir = path.join(root, 'pkcs11');
    expect(await cachedAfterJoins(dataDir, raw, env, {}, 6)).toBe(6);
    expect(await cachedAfterJoins(dataDir, raw, env, { keyCacheSize: 2 }, 6)).toBeLessThanOrEqual(2);
    expect(await cachedAfterJoins(dataDir, raw, env, { keyCacheSize: 0 }, 6)).toBe(0);
  });
});
