import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import type { EUI64 } from '../lorawan/identifiers';
import { ParseError } from '../lorawan/parse-error';

declare const ownerTokenBrand: unique symbol;
/**
 * A device's owner token (claim code), TR005 style: 1-32 upper-case letters and digits. An
 * LR1110-style PIN is one. A secret: stored only hashed, shown only when it is generated.
 */
export type OwnerToken = string & { readonly [ownerTokenBrand]: true };

export const OWNER_TOKEN = /^[A-Z0-9]{1,32}$/;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
/** Generated tokens: 12 characters of 36, about 62 bits. */
export const GENERATED_TOKEN_LENGTH = 12;

export function parseOwnerToken(value: unknown, field = 'owner_token'): OwnerToken {
  if (typeof value !== 'string' || !OWNER_TOKEN.test(value)) throw new ParseError(field, 'expected 1-32 upper-case letters and digits (TR005 owner token)');
  return value as OwnerToken;
}

/**
 * Shorter owner tokens given at import are refused unless the importer says they are meant:
 * the claim rate limits let through a few guesses a minute on a device, a few million over
 * years, and a short token (36^6 is about 2 billion, 36^4 under 2 million) may be guessed
 * within a device's lifetime. An 8-character one (36^8, about 2.8 * 10^12) is not.
 */
export const MIN_OWNER_TOKEN_LENGTH = 8;

/** Why a short owner token is refused, and how to get past it (null: long enough, or allowed). */
export function weakOwnerTokenProblem(token: OwnerToken, allowWeak: boolean): string | null {
  if (allowWeak || token.length >= MIN_OWNER_TOKEN_LENGTH) return null;
  return `owner_token has ${token.length} characters, fewer than ${MIN_OWNER_TOKEN_LENGTH}: a short owner token can be guessed within the claim rate limits over the device's lifetime. Use ${MIN_OWNER_TOKEN_LENGTH} or more (or leave it empty: ${GENERATED_TOKEN_LENGTH} are generated), or import with --allow-weak-owner-tokens (admin API: allowWeakOwnerTokens) if the devices cannot take a longer one`;
}

export function generateOwnerToken(): OwnerToken {
  let token = '';
  for (let i = 0; i < GENERATED_TOKEN_LENGTH; i++) token += ALPHABET[randomInt(ALPHABET.length)];
  return token as OwnerToken;
}

/**
 * `<salt>:<SHA-256(salt, DevEUI, token)>`, hex. Salted per device so equal tokens of two
 * devices do not hash alike. A fast hash: short tokens are protected online by the claim rate
 * limits; whoever can read the database already holds the sealed keys and the tokens' hashes.
 */
export function hashOwnerToken(devEUI: EUI64, token: OwnerToken): string {
  const salt = randomBytes(16).toString('hex');
  return `${salt}:${digest(salt, devEUI, token)}`;
}

/** Constant-time check of a presented token against a stored hash. */
export function ownerTokenMatches(stored: string, devEUI: EUI64, presented: string): boolean {
  const [salt, expected] = stored.split(':');
  if (salt === undefined || expected === undefined || expected.length !== 64) return false;
  return timingSafeEqual(Buffer.from(digest(salt, devEUI, presented), 'hex'), Buffer.from(expected, 'hex'));
}

function digest(salt: string, devEUI: EUI64, token: string): string {
  return createHash('sha256').update(`joinery-owner-token\0${salt}\0${devEUI}\0${token}`, 'utf8').digest('hex');
}

declare const profileIDBrand: unique symbol;
/** TR005 ProfileID: VendorID (4 hex digits) + vendor's profile (4 hex digits), upper case. */
export type ProfileID = string & { readonly [profileIDBrand]: true };
export const DEFAULT_PROFILE_ID = '00000000' as ProfileID;

export function parseProfileID(value: unknown, field = 'profile_id'): ProfileID {
  if (typeof value !== 'string' || !/^[0-9A-Fa-f]{8}$/.test(value)) throw new ParseError(field, 'expected 8 hex digits (TR005 VendorID + ProfileID)');
  return value.toUpperCase() as ProfileID;
}

/**
 * The LoRa Alliance TR005 QR code payload for a device label:
 * `LW:D0:<JoinEUI>:<DevEUI>:<ProfileID>:O<OwnerToken>` (EUIs upper-case hex).
 */
export function qrPayload(joinEUI: EUI64, devEUI: EUI64, profileID: ProfileID, token: OwnerToken): string {
  return `LW:D0:${joinEUI.toUpperCase()}:${devEUI.toUpperCase()}:${profileID}:O${token}`;
}
