import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Backends } from './open-backends';
import { openSealedCanary } from './vault-canary';

/** How long one check may take: an unreachable database may not refuse, only never answer. */
const CHECK_TIMEOUT_MS = 2000;
/** How long a canary the vault opened counts as opened (an HSM round trip per probe is not needed). */
const CANARY_TTL_MS = 1000;

/**
 * What `/readyz` asks, in order; the first that fails is the reason given:
 *
 * 1. the store answers (a ping, bounded in time);
 * 2. the vault opens one sealed blob of the store (a device's root keys, else a peer's KEK):
 *    it holds the key the store's data is sealed under; a store with nothing sealed asks the
 *    vault for a key instead. A success is reused for a second;
 * 3. with a SQLite store, the data directory takes a file (written, then removed).
 */
export function readinessCheck(backends: Backends): () => Promise<void> {
  let canaryOpenedAt = -Infinity;
  const probeFile = path.join(backends.settings.dataDir, '.joinery-ready-probe');
  return async () => {
    await withTimeout(backends.store.ping(), 'the store did not answer');
    if (Date.now() - canaryOpenedAt >= CANARY_TTL_MS) {
      await withTimeout(vaultOpens(backends), 'the key vault did not answer');
      canaryOpenedAt = Date.now();
    }
    if (backends.settings.store.kind === 'sqlite') {
      try {
        await fs.writeFile(probeFile, randomBytes(8));
        await fs.unlink(probeFile);
      } catch (err) {
        throw new Error(`the data directory ${backends.settings.dataDir} cannot be written (${(err as NodeJS.ErrnoException).code ?? 'unknown error'})`);
      }
    }
  };
}

async function vaultOpens(backends: Backends): Promise<void> {
  const canary = await backends.store.sealedCanary(backends.vault.kind);
  if (canary === null) {
    backends.vault.release(await backends.vault.generateKey());
    return;
  }
  try {
    await openSealedCanary(backends.vault, canary);
  } catch {
    throw new Error(`the key vault cannot open the store's sealed keys (${canary.kind === 'device' ? `device ${canary.devEUI}` : `peer ${canary.name}`}): wrong master key or HSM token`);
  }
}

function withTimeout<T>(promise: Promise<T>, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${message} within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
