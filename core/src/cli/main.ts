#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { DeviceImportError } from '../devices/device-import-file';
import { ParseError } from '../lorawan/parse-error';
import { VERSION } from '../server/version';
import { applyConfiguration } from '../config/config-file';
import { addConfigCommands } from './config-commands';
import { addDeviceMaintenanceCommands } from './device-maintenance-commands';
import { addDevicesCommands } from './devices-commands';
import { addKeysCommands } from './keys-commands';
import { addOwnershipCommands } from './ownership-commands';
import { AdminRequestError } from './admin-client';
import { addMigrateCommands } from './migrate-commands';
import { dropOutputWhenReaderLeaves } from './output';
import { MigrationError } from '../fleet-migration/migration-error';
import { addPeerCommands } from './peer-commands';
import { addServeCommand } from './serve-command';
import { addSimulateCommands } from './simulate-command';

dropOutputWhenReaderLeaves(process.stdout);
dropOutputWhenReaderLeaves(process.stderr);

const program = new Command('joinery')
  .description('Joinery: an open LoRaWAN Join Server (LoRa Alliance Backend Interfaces 1.0 and 1.1)')
  .version(VERSION)
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride()
  // The configuration file (--config / JOINERY_CONFIG) under the environment and the flags.
  .hook('preAction', (_program, command) => applyConfiguration(command));

addServeCommand(program);
addPeerCommands(program);
addDevicesCommands(program);
addDeviceMaintenanceCommands(program);
addOwnershipCommands(program);
addSimulateCommands(program);
addKeysCommands(program);
addMigrateCommands(program);
addConfigCommands(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CommanderError) {
    // --help and --version exit 0; a usage error (unknown command or option, a missing
    // argument or required option) exits 2, like every other bad input.
    process.exit(err.exitCode === 0 ? 0 : 2);
  }
  if (err instanceof ParseError) {
    process.stderr.write(`joinery: ${err.message}\n`);
    process.exit(2);
  }
  if (err instanceof AdminRequestError) {
    process.stderr.write(`joinery: ${err.message}\n`);
    process.exit(err.status === 400 || err.status === 422 ? 2 : 1);
  }
  if (err instanceof MigrationError) {
    process.stderr.write(`joinery: ${err.message}\n`);
    process.exit(err.code === 'bad-request' ? 2 : 1);
  }
  if (err instanceof DeviceImportError) {
    process.stderr.write(`joinery: import refused, nothing was imported. ${err.message}\n`);
    process.exit(1);
  }
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`joinery: ${message}\n`);
  if (process.env['JOINERY_DEBUG'] && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  process.exit(1);
});
