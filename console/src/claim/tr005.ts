/**
 * The LoRa Alliance TR005 QR code payload on a device's label:
 * `LW:D0:<JoinEUI>:<DevEUI>:<ProfileID>[:O<OwnerToken>][:S<serial>][:P<proprietary>][:C<checksum>]`.
 * Only what claiming needs is kept; other optional fields are ignored.
 */
export interface TR005Payload {
  readonly joinEUI: string;
  readonly devEUI: string;
  readonly profileID: string;
  readonly ownerToken?: string;
}

const EUI = /^[0-9A-F]{16}$/;
const PROFILE = /^[0-9A-F]{8}$/;
export const OWNER_TOKEN = /^[A-Z0-9]{1,32}$/;

/** The payload, or a sentence saying what is wrong with it. */
export function parseTR005(text: string): TR005Payload | string {
  const fields = text.trim().split(':');
  if (fields[0] !== 'LW' || fields[1] !== 'D0') return 'Not a LoRaWAN device QR code (expected it to start with LW:D0:).';
  const [joinEUI, devEUI, profileID] = fields.slice(2, 5).map((f) => f.toUpperCase());
  if (!joinEUI || !EUI.test(joinEUI)) return 'The JoinEUI in the QR code is not 16 hex digits.';
  if (!devEUI || !EUI.test(devEUI)) return 'The DevEUI in the QR code is not 16 hex digits.';
  if (!profileID || !PROFILE.test(profileID)) return 'The ProfileID in the QR code is not 8 hex digits.';
  const owner = fields.slice(5).find((f) => f.startsWith('O'));
  const ownerToken = owner?.slice(1);
  if (ownerToken !== undefined && !OWNER_TOKEN.test(ownerToken)) return 'The owner token in the QR code is not 1-32 upper-case letters and digits.';
  return { joinEUI, devEUI, profileID, ...(ownerToken ? { ownerToken } : {}) };
}
