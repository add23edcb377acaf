import type { Command } from 'commander';
import { parseEUI64 } from '../lorawan/identifiers';
import { ParseError } from '../lorawan/parse-error';
import { openBackends } from '../server/open-backends';
import { auditEvent } from '../store/audit-event';
import { cliAuditContext } from './cli-actor';
import { backendSettings, openExistingBackends, withBackendOptions, type BackendFlags } from './backend-options';
import { note, say, table } from './output';

export function addDeviceMaintenanceCommands(program: Command): void {
  const devices = program.commands.find((c) => c.name() === 'devices');
  if (!devices) throw new Error('the devices command must be registered first');

  withBackendOptions(
    devices
      .command('reset-dev-nonce')
      .description('forget the DevNonces a device used (the "DevNonce already used" loop after a device reset); the JoinNonce is never reset; audited')
      .argument('<devEUI>', 'DevEUI (16 hex digits)')
      .requiredOption('--reason <text>', 'why: recorded in the audit trail'),
  ).action(async (devEUIArg: string, flags: BackendFlags & { reason: string }) => {
    const devEUI = parseEUI64(devEUIArg, 'DEVEUI');
    const reason = flags.reason.trim();
    if (reason === '') throw new ParseError('--reason', 'must not be empty');
    const backends = await openBackends(backendSettings(flags));
    try {
      for (const c of backends.created) note(`joinery: created ${c}`);
      const before = await backends.store.getDevice(devEUI);
      if (!before) {
        process.exitCode = 1;
        note(`joinery: no device ${devEUI}`);
        return;
      }
      const after = await backends.store.resetDevNonces(
        devEUI,
        auditEvent(cliAuditContext(), 'device.dev-nonce.reset', devEUI, {
          reason: reason.slice(0, 500),
          lastDevNonce: before.nonces.lastDevNonce,
          usedDevNonces: before.nonces.usedDevNonces.length,
          lastJoinNonce: before.nonces.lastJoinNonce,
        }),
      );
      if (!after) {
        process.exitCode = 1;
        note(`joinery: no device ${devEUI}`);
        return;
      }
      say(
        `reset the DevNonces of ${devEUI}: last DevNonce ${before.nonces.lastDevNonce ?? '-'} and ${before.nonces.usedDevNonces.length} used value(s) forgotten; JoinNonce stays at ${after.nonces.lastJoinNonce ?? '-'}`,
      );
    } finally {
      await backends.close();
    }
  });

  const audit = program.command('audit').description('the audit trail: who changed what, when');
  withBackendOptions(
    audit.command('list').description('audit entries, newest first').option('--dev-eui <eui>', 'only this device').option('--limit <n>', 'at most this many', '100').option('--json', 'JSON output'),
  ).action(async (flags: BackendFlags & { devEui?: string; limit: string; json?: boolean }) => {
    const limit = Number(flags.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) throw new ParseError('--limit', 'expected an integer 1..100000');
    const devEUI = flags.devEui === undefined ? undefined : parseEUI64(flags.devEui, '--dev-eui');
    const backends = await openExistingBackends(flags);
    try {
      const events = await backends.store.listAuditEvents({ limit, ...(devEUI ? { devEUI } : {}) });
      if (flags.json) {
        say(JSON.stringify(events, null, 2));
        return;
      }
      say(
        table(
          ['AT', 'ACTOR', 'TENANT', 'FROM', 'ACTION', 'DEVEUI', 'DETAIL'],
          events.map((e) => [e.at.toISOString(), e.actor, e.tenantID ?? '-', e.source ?? '-', e.action, e.devEUI ?? '-', JSON.stringify(e.detail)]),
        ),
      );
    } finally {
      await backends.close();
    }
  });
}
