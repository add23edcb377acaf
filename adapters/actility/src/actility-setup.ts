import { renderSetupSheet, type AdapterSetupInput, type RenderedSetup } from '@joinery/core';

/**
 * ThingPark takes external Join Servers through its operator: how an operator declares one
 * (JoinEUI range, URL, certificates, KEK) is not public (inference: operator-side
 * configuration), so Joinery renders a setup sheet, not a configuration file.
 */
export function renderActilitySetup(input: AdapterSetupInput): RenderedSetup {
  return renderSetupSheet(input, {
    vendor: 'actility',
    title: 'Actility ThingPark',
    how: [
      'ThingPark offers "OTAA with external Join Server" as an activation mode. The external Join Server itself ' +
        '(JoinEUI ranges, URL, TLS certificates, KEK) is declared by the ThingPark operator: for ThingPark Enterprise, ' +
        'your own administrator; for ThingPark Wireless, Actility support.',
      'Devices are then created by Joinery (`joinery ns sync`) through the DX Core API with no application key: ' + 'their device profile must use OTAA with an external Join Server.',
    ],
    instructions: [
      "The ThingPark operator declares the external Join Server with the sheet's URL, protocol, JoinEUI ranges, CA certificate, client certificate and key, and KEK (label and value).",
      `Check that ThingPark sends JoinReqs with SenderID ${input.netID.toUpperCase()} (its NetID)${input.nsID ? ` and SenderNSID ${input.nsID.toUpperCase()}` : ''}.`,
      'Use a device profile for "OTAA with external Join Server" in ns add --device-profile-id, then run joinery ns sync.',
    ],
  });
}
