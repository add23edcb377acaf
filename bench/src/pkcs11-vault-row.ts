import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as pkcs11js from 'pkcs11js';
import { AES128Key, MasterKey, parseEUI64, Pkcs11KeyVault, SoftwareKeyVault, type KeyHandle, type KeyVault } from '@joinery/core';
import type { BenchOptions } from './bench-options';
import type { OptionalRow } from './results';

/**
 * The PKCS#11 vault row: the vault calls of full LoRaWAN 1.1 joins (OptNeg, an application
 * server: join-request MIC, JSIntKey, join-accept MIC, four session keys, join-accept
 * encryption, both KEKs opened, four wraps, the AppSKey sealed for AppSKeyReq, temporaries
 * released), exactly as the join engine issues them, on
 *
 * - the software vault,
 * - the PKCS#11 vault on a temporary SoftHSM2 token,
 * - and the same PKCS#11 operations issued directly through pkcs11js with no vault in between
 *   (one session per concurrent join): the HSM's own throughput for those operations, so the
 *   vault's overhead shows as a ratio.
 *
 * The three runs alternate, round after round, and the medians are reported, so a machine busy
 * with something else skews all three alike. Needs softhsm2 (`/usr/lib/softhsm/libsofthsm2.so`,
 * or JOINERY_BENCH_PKCS11_LIB); JOINERY_PKCS11_SESSIONS sets the vault's session pool (default 8).
 */

const LIBRARY = process.env['JOINERY_BENCH_PKCS11_LIB'] ?? '/usr/lib/softhsm/libsofthsm2.so';
const DEVICES = 64;

/** Seconds per run, concurrent joins, interleaved rounds. */
interface VaultRunConfig {
  readonly seconds: number;
  readonly concurrency: number;
  readonly rounds: number;
}

interface Fixture {
  readonly vault: KeyVault;
  readonly devices: { devEUI: string; sealed: Buffer }[];
  readonly nsKEK: Buffer;
  readonly asKEK: Buffer;
}

async function fixture(vault: KeyVault): Promise<Fixture> {
  const devices = [];
  for (let i = 0; i < DEVICES; i++) {
    const devEUI = parseEUI64(randomBytes(8).toString('hex'));
    const sealed = await vault.sealRootKeys({ kind: '1.1', appKey: AES128Key.fromBytes(randomBytes(16)), nwkKey: AES128Key.fromBytes(randomBytes(16)) }, devEUI);
    devices.push({ devEUI, sealed });
  }
  const seal = async (context: string): Promise<Buffer> => {
    const k = await vault.generateKey();
    try {
      return await vault.sealKey(k, context);
    } finally {
      vault.release(k);
    }
  };
  return { vault, devices, nsKEK: await seal('kek:ns'), asKEK: await seal('kek:as') };
}

/** One join's vault calls, in the join engine's order. */
async function joinThroughVault(f: Fixture, i: number): Promise<void> {
  const v = f.vault;
  const d = f.devices[i % DEVICES]!;
  const root = await v.openRootKeys(d.sealed, d.devEUI);
  if (root.kind !== '1.1') throw new Error('expected 1.1 root keys');
  const temporaries: KeyHandle[] = [];
  const derive = async (k: KeyHandle): Promise<KeyHandle> => {
    const h = await v.deriveKey(k, randomBytes(16));
    temporaries.push(h);
    return h;
  };
  try {
    await v.cmac(root.nwkKey, randomBytes(19));
    const jsIntKey = await derive(root.nwkKey);
    await v.cmac(jsIntKey, randomBytes(40));
    const f1 = await derive(root.nwkKey);
    const appSKey = await derive(root.appKey);
    const s1 = await derive(root.nwkKey);
    const n1 = await derive(root.nwkKey);
    await v.decryptBlocks(root.nwkKey, randomBytes(16));
    const nsKEK = await v.openKey(f.nsKEK, 'kek:ns');
    temporaries.push(nsKEK);
    for (const k of [f1, s1, n1]) await v.wrapKey(k, nsKEK);
    const asKEK = await v.openKey(f.asKEK, 'kek:as');
    temporaries.push(asKEK);
    await v.wrapKey(appSKey, asKEK);
    await v.sealKey(appSKey, `appskey:${d.devEUI}:${i}`);
  } finally {
    v.release(...temporaries);
  }
}

/** The same PKCS#11 operations, issued directly: no vault, no pool, no handles. */
class RawJoins {
  readonly m = new pkcs11js.PKCS11();
  readonly sessions: Buffer[] = [];
  roots: { app: Buffer; nwk: Buffer }[] = [];
  wrapKey!: Buffer;
  macKey!: Buffer;
  sealedNS!: Buffer;
  sealedAS!: Buffer;

  constructor(label: string, pin: string, concurrency: number) {
    this.m.load(LIBRARY);
    try {
      this.m.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
    } catch {
      // initialised by the PKCS#11 vault of this process
    }
    const slot = this.m.C_GetSlotList(true).find((s) => this.m.C_GetTokenInfo(s).label.trim() === label)!;
    for (let i = 0; i < concurrency; i++) this.sessions.push(this.m.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION));
    try {
      this.m.C_Login(this.sessions[0]!, pkcs11js.CKU_USER, pin);
    } catch {
      // already logged in
    }
    const s = this.sessions[0]!;
    // Root keys and the sealing keys are token objects, as they must be (they persist).
    const aes = (extra: pkcs11js.Template, token = true): pkcs11js.Template => [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
      { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
      { type: pkcs11js.CKA_TOKEN, value: token },
      { type: pkcs11js.CKA_PRIVATE, value: true },
      { type: pkcs11js.CKA_SENSITIVE, value: true },
      ...extra,
    ];
    for (let i = 0; i < DEVICES; i++) {
      const root = (): Buffer =>
        this.m.C_CreateObject(
          s,
          aes([
            { type: pkcs11js.CKA_EXTRACTABLE, value: false },
            { type: pkcs11js.CKA_SIGN, value: true },
            { type: pkcs11js.CKA_DECRYPT, value: true },
            { type: pkcs11js.CKA_DERIVE, value: true },
            { type: pkcs11js.CKA_VALUE, value: randomBytes(16) },
          ]),
        );
      this.roots.push({ app: root(), nwk: root() });
    }
    const gen = (extra: pkcs11js.Template, token = true): Buffer => this.m.C_GenerateKey(s, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, aes([{ type: pkcs11js.CKA_VALUE_LEN, value: 16 }, ...extra], token));
    this.wrapKey = gen([
      { type: pkcs11js.CKA_WRAP, value: true },
      { type: pkcs11js.CKA_UNWRAP, value: true },
      { type: pkcs11js.CKA_EXTRACTABLE, value: false },
    ]);
    this.macKey = gen([
      { type: pkcs11js.CKA_SIGN, value: true },
      { type: pkcs11js.CKA_EXTRACTABLE, value: false },
    ]);
    const kek = (): Buffer => {
      const k = gen(
        [
          { type: pkcs11js.CKA_WRAP, value: true },
          { type: pkcs11js.CKA_EXTRACTABLE, value: true },
        ],
        false,
      );
      return this.m.C_WrapKey(s, { mechanism: pkcs11js.CKM_AES_KEY_WRAP }, this.wrapKey, k, Buffer.alloc(24));
    };
    this.sealedNS = kek();
    this.sealedAS = kek();
  }

  readonly sessionTemplate: pkcs11js.Template = [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
    { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
    { type: pkcs11js.CKA_TOKEN, value: false },
    { type: pkcs11js.CKA_PRIVATE, value: true },
    { type: pkcs11js.CKA_SENSITIVE, value: true },
    { type: pkcs11js.CKA_EXTRACTABLE, value: true },
    { type: pkcs11js.CKA_SIGN, value: true },
    { type: pkcs11js.CKA_VALUE_LEN, value: 16 },
  ];
  readonly kekTemplate: pkcs11js.Template = [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
    { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
    { type: pkcs11js.CKA_TOKEN, value: false },
    { type: pkcs11js.CKA_PRIVATE, value: true },
    { type: pkcs11js.CKA_SENSITIVE, value: true },
    { type: pkcs11js.CKA_EXTRACTABLE, value: true },
    { type: pkcs11js.CKA_WRAP, value: true },
  ];

  async join(worker: number, i: number): Promise<void> {
    const m = this.m;
    const s = this.sessions[worker]!;
    const root = this.roots[i % DEVICES]!;
    const cmac = async (k: Buffer, data: Buffer): Promise<Buffer> => {
      m.C_SignInit(s, { mechanism: pkcs11js.CKM_AES_CMAC }, k);
      return m.C_SignAsync(s, data, Buffer.alloc(16));
    };
    const derive = (k: Buffer): Promise<Buffer> => {
      const parameter: pkcs11js.AesCBC = { type: pkcs11js.CK_PARAMS_AES_CBC, iv: Buffer.alloc(16), data: randomBytes(16) };
      return m.C_DeriveKeyAsync(s, { mechanism: pkcs11js.CKM_AES_CBC_ENCRYPT_DATA, parameter }, k, this.sessionTemplate);
    };
    const wrap = (k: Buffer, kek: Buffer): Promise<Buffer> => m.C_WrapKeyAsync(s, { mechanism: pkcs11js.CKM_AES_KEY_WRAP }, kek, k, Buffer.alloc(24));
    const open = async (sealed: Buffer): Promise<Buffer> => {
      await cmac(this.macKey, randomBytes(50));
      return m.C_UnwrapKeyAsync(s, { mechanism: pkcs11js.CKM_AES_KEY_WRAP }, this.wrapKey, sealed, this.kekTemplate);
    };
    await cmac(root.nwk, randomBytes(19));
    const jsInt = await derive(root.nwk);
    await cmac(jsInt, randomBytes(40));
    const f1 = await derive(root.nwk);
    const app = await derive(root.app);
    const s1 = await derive(root.nwk);
    const n1 = await derive(root.nwk);
    m.C_DecryptInit(s, { mechanism: pkcs11js.CKM_AES_ECB }, root.nwk);
    await m.C_DecryptAsync(s, randomBytes(16), Buffer.alloc(16));
    const nsKEK = await open(this.sealedNS);
    for (const k of [f1, s1, n1]) await wrap(k, nsKEK);
    const asKEK = await open(this.sealedAS);
    await wrap(app, asKEK);
    await wrap(app, this.wrapKey);
    await cmac(this.macKey, randomBytes(80));
    for (const o of [jsInt, f1, app, s1, n1, nsKEK, asKEK]) m.C_DestroyObject(s, o);
  }

  close(): void {
    for (const s of this.sessions) this.m.C_CloseSession(s);
  }
}

async function run({ seconds, concurrency }: VaultRunConfig, join: (worker: number, i: number) => Promise<void>): Promise<number> {
  const until = Date.now() + seconds * 1000;
  let done = 0;
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (Date.now() < until) {
        await join(worker, next++);
        done++;
      }
    }),
  );
  return done / (Number(process.hrtime.bigint() - started) / 1e9);
}

const median = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

export async function pkcs11VaultRow(work: string, o: BenchOptions, progress: (line: string) => void): Promise<OptionalRow> {
  if (!existsSync(LIBRARY)) return { status: 'not-available', reason: `no PKCS#11 library at ${LIBRARY} (install softhsm2, or set JOINERY_BENCH_PKCS11_LIB)` };
  const config: VaultRunConfig = o.quick ? { seconds: 0.2, concurrency: 8, rounds: 1 } : { seconds: 1, concurrency: 32, rounds: 5 };
  const dir = path.join(work, 'softhsm');
  mkdirSync(dir, { recursive: true });
  const conf = path.join(dir, 'softhsm2.conf');
  writeFileSync(conf, `directories.tokendir = ${dir}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  process.env['SOFTHSM2_CONF'] = conf;
  const pin = randomBytes(8).toString('hex');
  try {
    execFileSync('softhsm2-util', ['--init-token', '--free', '--label', 'bench', '--so-pin', pin, '--pin', pin], { stdio: 'ignore' });
  } catch (err) {
    return { status: 'not-available', reason: `softhsm2-util --init-token failed: ${(err as Error).message}` };
  }
  const sessions = Number(process.env['JOINERY_PKCS11_SESSIONS'] ?? 8);
  progress(`PKCS#11 vault: ${config.rounds} interleaved rounds of ${config.seconds} s, ${config.concurrency} concurrent, ${sessions} sessions`);

  const software = await fixture(new SoftwareKeyVault(MasterKey.generate()));
  const hsm = await fixture(Pkcs11KeyVault.open({ library: LIBRARY, tokenLabel: 'bench', pin, sessions }));
  try {
    // Warm: each device's first join finds its token objects (a linear search on SoftHSM2).
    for (let i = 0; i < DEVICES; i++) await joinThroughVault(hsm, i);
    const raw = new RawJoins('bench', pin, config.concurrency);
    const rates = { software: [] as number[], vault: [] as number[], raw: [] as number[] };
    try {
      for (let round = 0; round < config.rounds; round++) {
        rates.software.push(await run(config, (_w, i) => joinThroughVault(software, i)));
        rates.vault.push(await run(config, (_w, i) => joinThroughVault(hsm, i)));
        rates.raw.push(await run(config, (w, i) => raw.join(w, i)));
      }
    } finally {
      raw.close();
    }
    const ratio = median(rates.vault.map((v, i) => v / rates.raw[i]!));
    const line = (name: string, xs: number[]): string => `${name}: ${median(xs).toFixed(0)} joins/s (median of ${xs.map((x) => x.toFixed(0)).join(', ')})`;
    return {
      status: 'measured',
      lines: [
        `vault calls of full 1.1 joins, ${config.concurrency} concurrent, ${sessions} PKCS#11 sessions`,
        line('software vault', rates.software),
        line('PKCS#11 vault on SoftHSM2', rates.vault),
        line('SoftHSM2, the same calls issued directly', rates.raw),
        `PKCS#11 vault / direct calls: ${(ratio * 100).toFixed(0)}%`,
      ],
      values: { softwareJoinsPerSecond: median(rates.software), pkcs11JoinsPerSecond: median(rates.vault), directJoinsPerSecond: median(rates.raw), vaultToDirectRatio: ratio },
    };
  } finally {
    await hsm.vault.close();
    await software.vault.close();
  }
}
