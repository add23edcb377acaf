import * as path from 'node:path';
import type { Command } from 'commander';
import { MASTER_KEY_FILE } from '../keys/master-key';
import { ParseError } from '../lorawan/parse-error';
import { openBackends } from '../server/open-backends';
import { rotateMasterKey } from '../server/rotate-master-key';
import { backendSettings, withBackendOptions, type BackendFlags } from './backend-options';
import { note, say } from './output';

interface RotateFlags extends BackendFlags {
  readonly retireOld?: boolean;
}

/** `joinery keys ...`: the software vault's master key. */
export function addKeysCommands(program: Command): void {
  const keys = program.command('keys').description("the software key vault's master key");

  withBackendOptions(
    keys
      .command('rotate-master')
      .description(
        'a new master key (added to <data-dir>/master.key) that seals from now on, and every sealed root key, KEK and AppSKey re-sealed under it; ' +
          'running servers follow at once (no restart, no downtime), no key is written in clear anywhere but the key file',
      )
      .option('--retire-old', 'then remove the older master keys from the key file, once nothing is sealed under them any more'),
  ).action(async (flags: RotateFlags) => {
    const settings = backendSettings(flags);
    if (settings.vault.kind !== 'software') {
      throw new ParseError('--vault', "the PKCS#11 vault has no master key: its keys never leave the HSM (rotate them with the HSM's own tools)");
    }
    const backends = await openBackends(settings);
    try {
      for (const c of backends.created) note(`joinery: created ${c}`);
      const r = await rotateMasterKey({ store: backends.store, keyFile: path.join(settings.dataDir, MASTER_KEY_FILE) }, { retireOld: flags.retireOld === true });
      say(`master key ${r.current} now seals (was ${r.previous}); re-sealed ${r.resealed} blob${r.resealed === 1 ? '' : 's'} (root keys, KEKs, AppSKeys)`);
      if (r.retired.length > 0) say(`retired master key${r.retired.length === 1 ? '' : 's'} ${r.retired.join(', ')}: removed from the key file`);
      if (r.kept.length > 0) {
        say(
          `kept master key${r.kept.length === 1 ? '' : 's'} ${r.kept.join(', ')} in the key file for blobs sealed by instances before they saw the new key; remove ${r.kept.length === 1 ? 'it' : 'them'} with: joinery keys rotate-master --retire-old`,
        );
      }
      note('joinery: back up the new master key file now');
    } finally {
      await backends.close();
    }
  });
}
