/** Why a migration request was refused: a stable code (the admin API's `code`) and a message. */
export type MigrationErrorCode = 'migration-not-found' | 'peer-not-found' | 'not-a-network-server' | 'no-adapter' | 'same-peer' | 'no-devices' | 'device-in-another-migration' | 'migration-settled' | 'bad-request';

export class MigrationError extends Error {
  override readonly name = 'MigrationError';
  constructor(
    readonly code: MigrationErrorCode,
    message: string,
  ) {
    super(message);
  }
}
