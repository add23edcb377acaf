import { renderSetupSheet, type AdapterSetupInput, type RenderedSetup } from '@joinery/core';

/**
 * OrbiWAN's REST document cites Backend Interfaces 1.0, but no public way to declare an
 * external Join Server was found: a setup sheet for Orbiwise.
 */
export function renderOrbiwiseSetup(input: AdapterSetupInput): RenderedSetup {
  return renderSetupSheet(input, {
    vendor: 'orbiwise',
    title: 'Orbiwise OrbiWAN',
    how: [
      'OrbiWAN speaks LoRaWAN Backend Interfaces 1.0; declaring an external Join Server is done by the OrbiWAN ' + 'operator (no public API for it): give them this sheet.',
      'Joinery creates the nodes themselves (`joinery ns sync`) through the REST API, without keys.',
    ],
    instructions: [
      "The OrbiWAN operator declares the Join Server with the sheet's URL, JoinEUI ranges, CA certificate, client certificate and key, and KEK (label and value).",
      `OrbiWAN's documentation cites Backend Interfaces 1.0 (Joinery answers 1.0 and 1.1 at the same URL): its NetID (SenderID) must be ${input.netID.toUpperCase()}.`,
    ],
  });
}
