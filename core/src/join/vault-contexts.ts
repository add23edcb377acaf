import type { EUI64 } from '../lorawan/identifiers';

/**
 * Sealing contexts: the vault binds each sealed blob to its purpose and owner (authenticated
 * data), so a blob copied to another row opens nowhere else.
 */
export function kekContext(peerName: string): string {
  return `kek:${peerName}`;
}

export function appSKeyContext(devEUI: EUI64, sessionKeyID: string): string {
  return `appskey:${devEUI}:${sessionKeyID}`;
}
