import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as pkcs11js from 'pkcs11js';
import type { KeyHandle, KeyVault } from '../keys/key-vault';
import { MasterKey } from '../keys/master-key';
import { Pkcs11KeyVault } from '../keys/pkcs11-vault';
import { SoftwareKeyVault } from '../keys/software-vault';
import { AES128Key } from '../lorawan/aes128-key';
import { parseEUI64 } from '../lorawan/identifiers';

/**
 * Key vault benchmark: the vault calls of full LoRaWAN 1.1 joins (OptNeg, an application
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
 * `node core/dist/bench/vault-bench.js [seconds per run, default 1] [concurrency, default 32]
 * [rounds, default 5]` (`npm run bench`): the three runs alternate, round after round, and the
 * medians are reported, so a machine busy with something else skews all three alike. Needs
 * softhsm2 (`/usr/lib/softhsm/libsofthsm2.so`, or JOINERY_BENCH_PKCS11_LIB);
 * JOINERY_PKCS11_SESSIONS sets the vault's session pool (default 8).
 */

const LIBRARY = process.env['JOINERY_BENCH_PKCS11_LIB'] ?? '/usr/lib/softhsm/libsofthsm2.so';
const seconds = Number(process.argv[2] ?? 1);
const concurrency = Number(process.argv[3] ?? 32);
const rounds = Number(process.argv[4] ?? 5);
const DEVICES = 64;

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

  constructor(label: string, pin: string) {
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
        this.m.C_CreateObject(s, aes([{ type: pkcs11js.CKA_EXTRACTABLE, value: false }, { type: pkcs11js.CKA_SIGN, value: true }, { type: pkcs11js.CKA_DECRYPT, value: true }, { type: pkcs11js.CKA_DERIVE, value: true }, { type: pkcs11js.CKA_VALUE, value: randomBytes(16) }]));
      this.roots.push({ app: root(), nwk: root() });
    }
    const gen = (extra: pkcs11js.Template, token = true): Buffer => this.m.C_GenerateKey(s, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, aes([{ type: pkcs11js.CKA_VALUE_LEN, value: 16 }, ...extra], token));
    this.wrapKey = gen([{ type: pkcs11js.CKA_WRAP, value: true }, { type: pkcs11js.CKA_UNWRAP, value: true }, { type: pkcs11js.CKA_EXTRACTABLE, value: false }]);
    this.macKey = gen([{ type: pkcs11js.CKA_SIGN, value: true }, { type: pkcs11js.CKA_EXTRACTABLE, value: false }]);
    const kek = (): Buffer => {
      const k = gen([{ type: pkcs11js.CKA_WRAP, value: true }, { type: pkcs11js.CKA_EXTRACTABLE, value: true }], false);
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

async function run(join: (worker: number, i: number) => Promise<void>): Promise<number> {
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

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'joinery-bench-'));
  try {
    const conf = path.join(dir, 'softhsm2.conf');
    writeFileSync(conf, `directories.tokendir = ${dir}\nobjectstore.backend = file\nlog.level = ERROR\n`);
    process.env['SOFTHSM2_CONF'] = conf;
    const pin = randomBytes(8).toString('hex');
    execFileSync('softhsm2-util', ['--init-token', '--free', '--label', 'bench', '--so-pin', pin, '--pin', pin], { stdio: 'ignore' });
    const sessions = Number(process.env['JOINERY_PKCS11_SESSIONS'] ?? 8);
    console.log(
      `vault benchmark: full LoRaWAN 1.1 joins (vault calls only), ${concurrency} concurrent, ${rounds} interleaved rounds of ${seconds} s, ` +
        `${sessions} PKCS#11 sessions, UV_THREADPOOL_SIZE=${process.env['UV_THREADPOOL_SIZE'] ?? '4 (default)'}, load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} CPUs`,
    );

    const software = await fixture(new SoftwareKeyVault(MasterKey.generate()));
    const hsm = await fixture(Pkcs11KeyVault.open({ library: LIBRARY, tokenLabel: 'bench', pin, sessions }));
    // Warm: each device's first join finds its token objects (a linear search on SoftHSM2).
    for (let i = 0; i < DEVICES; i++) await joinThroughVault(hsm, i);
    const raw = new RawJoins('bench', pin);
    const rates = { software: [] as number[], vault: [] as number[], raw: [] as number[] };
    for (let round = 0; round < rounds; round++) {
      rates.software.push(await run((_w, i) => joinThroughVault(software, i)));
      rates.vault.push(await run((_w, i) => joinThroughVault(hsm, i)));
      rates.raw.push(await run((w, i) => raw.join(w, i)));
    }
    const line = (name: string, xs: number[]): void =>
      console.log(`${name.padEnd(42)} ${median(xs).toFixed(0).padStart(7)} joins/s median  (rounds: ${xs.map((x) => x.toFixed(0)).join(', ')})`);
    line('software vault', rates.software);
    line('PKCS#11 vault on SoftHSM2', rates.vault);
    line('SoftHSM2, the same calls issued directly', rates.raw);
    const ratios = rates.vault.map((v, i) => v / rates.raw[i]!);
    console.log(`PKCS#11 vault / direct calls: ${(median(ratios) * 100).toFixed(0)}% (median of the rounds' ratios)`);
    raw.close();
    await hsm.vault.close();
    await software.vault.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
