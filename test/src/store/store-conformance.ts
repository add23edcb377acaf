import type { Store } from '@joinery/core';
import { auditLogConformance } from './conformance/audit-log';
import { storeConformance } from './conformance/conformance-context';
import { deviceRegistryConformance } from './conformance/device-registry';
import { fleetMigrationJournalConformance } from './conformance/fleet-migration-journal';
import { joinHistoryConformance } from './conformance/join-history';
import { joinStateConformance } from './conformance/join-state';
import { peerRegistryConformance } from './conformance/peer-registry';
import { rateBucketLedgerConformance } from './conformance/rate-bucket-ledger';
import { sealedSettingsConformance } from './conformance/sealed-settings';
import { storeLifeConformance } from './conformance/store-life';
import { tenantRegistryConformance } from './conformance/tenant-registry';

/**
 * The store contract (design.md, "Store contract"): every Store implementation passes this
 * suite. `openStore` gives a new handle on the SAME database each time it is called (the way
 * a second Joinery instance, or the CLI beside a running server, opens it).
 *
 * The suite is meant to be run twice on one database, so it never assumes an empty store:
 * each run works on its own DevEUIs (a random prefix) and peer names, and counts in
 * differences. Leftover state from the first run that changes the second's results is a bug
 * of the store (or of this suite).
 *
 * One part per port of the store (`./conformance`), each a function of the suite's shared
 * context.
 */
export function describeStoreConformance(name: string, openStore: () => Promise<Store>): void {
  describe(`store conformance: ${name}`, () => {
    const c = storeConformance(openStore);
    deviceRegistryConformance(c);
    joinStateConformance(c);
    joinHistoryConformance(c);
    peerRegistryConformance(c);
    tenantRegistryConformance(c);
    auditLogConformance(c);
    fleetMigrationJournalConformance(c);
    rateBucketLedgerConformance(c);
    sealedSettingsConformance(c);
    storeLifeConformance(c);
  });
}
