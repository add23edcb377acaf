import { ParseError } from '../lorawan/parse-error';

/** Network server vendors Joinery knows; `generic` is any other TS002-speaking network server. */
export const VENDORS = ['chirpstack', 'the-things-stack', 'actility', 'loriot', 'orbiwise', 'generic'] as const;
export type Vendor = (typeof VENDORS)[number];

const ALIASES: ReadonlyMap<string, Vendor> = new Map<string, Vendor>([
  ['tts', 'the-things-stack'],
  ['ttn', 'the-things-stack'],
  ['thethingsstack', 'the-things-stack'],
  ['thingpark', 'actility'],
  ['orbiwan', 'orbiwise'],
]);

export function parseVendor(value: unknown, field = 'vendor'): Vendor {
  if (typeof value !== 'string') throw new ParseError(field, `expected one of ${VENDORS.join(', ')}`);
  const s = value.trim().toLowerCase();
  const v = (VENDORS as readonly string[]).includes(s) ? (s as Vendor) : ALIASES.get(s.replace(/[-_ ]/g, ''));
  if (!v) throw new ParseError(field, `unknown vendor "${value}" (expected one of ${VENDORS.join(', ')})`);
  return v;
}
