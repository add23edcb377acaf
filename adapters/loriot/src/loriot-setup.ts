import { renderSetupSheet, type AdapterSetupInput, type RenderedSetup } from '@joinery/core';

/**
 * LORIOT registers an external Join Server's URL and certificates itself, on request (not
 * public: inference), and the application property `joinServerId` picks it for JoinReqs:
 * a setup sheet for LORIOT, with the joinServerId when it is known.
 */
export function renderLoriotSetup(input: AdapterSetupInput, joinServerId: string | null): RenderedSetup {
  return renderSetupSheet(input, {
    vendor: 'loriot',
    title: 'LORIOT',
    how: [
      'LORIOT registers external Join Servers (URL, TLS certificates, KEK) on request: send this sheet to LORIOT support. ' +
        "They give the Join Server an EUI; an application's `joinServerId` property then sends its devices' JoinReqs there.",
      'With --join-server-id, Joinery sets `joinServerId` on the application itself (`joinery ns sync`; LORIOT allows it on tier 2 accounts only); ' +
        "otherwise ask LORIOT to set the application's Join Server. Joinery creates the devices as OTAA without their root key.",
    ],
    ...(joinServerId ? { settings: [{ key: 'joinServerId', label: 'joinServerId (application property)', value: joinServerId }] } : {}),
    instructions: [
      "LORIOT registers the Join Server with the sheet's URL, JoinEUI ranges, CA certificate, client certificate and key, and KEK (label and value), and tells you its Join Server EUI.",
      joinServerId
        ? `Joinery sets the application's joinServerId to ${joinServerId} before registering devices (joinery ns sync).`
        : "Give that EUI to ns add --join-server-id (with --api-url, --api-key-file and --application-id) on a tier 2 account: Joinery then sets the application's joinServerId. Otherwise ask LORIOT to set the application's Join Server to it.",
      `Check that LORIOT sends JoinReqs with SenderID ${input.netID.toUpperCase()} (its NetID).`,
    ],
  });
}
