import { randomBytes } from 'node:crypto';
import { format, inspect } from 'node:util';
import { aesDecryptECB, aesEncryptBlock } from './aes';
import { AES128Key, type PrimitiveSlot } from './aes128-key';
import { aesCmac } from './cmac';
import { ParseError } from './parse-error';

/** Every text a key could end up in, by the usual ways of printing things. */
function renderings(key: AES128Key): string[] {
  return [
    String(key),
    `${key}`,
    'key: ' + key,
    key.toString(),
    key.toLocaleString(),
    JSON.stringify(key),
    JSON.stringify({ nested: { key } }),
    JSON.stringify([key]),
    inspect(key),
    inspect({ nested: { deeper: { key } } }, { depth: 10, showHidden: true }),
    inspect(key, { showHidden: true, customInspect: true }),
    format('%s %o %O %j', key, key, key, key),
    format(key),
  ];
}

function spellings(bytes: Buffer): string[] {
  const h = bytes.toString('hex');
  return [h, h.toUpperCase(), bytes.toString('base64'), [...bytes].join(','), h.slice(0, 8)];
}

describe('aes128-key', () => {
  test('aes128-key/never prints its bytes (String, template literal, JSON.stringify, util.inspect, util.format)', () => {
    for (let i = 0; i < 5; i++) {
      const raw = randomBytes(16);
      const key = AES128Key.fromBytes(raw);
      for (const text of renderings(key)) {
        expect(text).toContain('redacted');
        for (const s of spellings(raw)) expect(text).not.toContain(s);
      }
    }
  });

  test('aes128-key/fromHex is tolerant and does not echo its input in errors', () => {
    const raw = randomBytes(16);
    expect(
      AES128Key.fromHex(`0x${raw.toString('hex').toUpperCase()}`)
        .unsafeBytes()
        .equals(raw),
    ).toBe(true);
    const short = raw.toString('hex').slice(0, 30);
    try {
      AES128Key.fromHex(short, 'AppKey');
      throw new Error('expected a ParseError');
    } catch (e) {
      expect(e).toBeInstanceOf(ParseError);
      expect((e as ParseError).field).toBe('AppKey');
      expect((e as Error).message).not.toContain(short);
    }
    expect(() => AES128Key.fromHex(`${raw.toString('hex').slice(0, 31)}g`)).toThrow(ParseError);
    expect(() => AES128Key.fromHex(12)).toThrow(ParseError);
  });

  test('aes128-key/fromBytes requires 16 bytes and copies them', () => {
    expect(() => AES128Key.fromBytes(Buffer.alloc(15))).toThrow(ParseError);
    expect(() => AES128Key.fromBytes(Buffer.alloc(17))).toThrow(ParseError);
    const raw = randomBytes(16);
    const key = AES128Key.fromBytes(raw);
    const copy = Buffer.from(raw);
    raw.fill(0);
    expect(key.unsafeBytes().equals(copy)).toBe(true);
  });

  test('aes128-key/equals compares the bytes', () => {
    const raw = randomBytes(16);
    expect(AES128Key.fromBytes(raw).equals(AES128Key.fromBytes(raw))).toBe(true);
    expect(AES128Key.fromBytes(raw).equals(AES128Key.fromBytes(randomBytes(16)))).toBe(false);
  });

  test('aes128-key/primitiveState: made once per slot, kept by the key, and reachable from nowhere else (no property, no symbol, not printed)', () => {
    const key = AES128Key.fromBytes(randomBytes(16));
    let made = 0;
    const secretish = { derived: randomBytes(16).toString('hex') };
    const slot: PrimitiveSlot<object> = { make: () => (made++, made === 1 ? secretish : {}), dispose: () => {} };
    expect(key.primitiveState(slot)).toBe(secretish);
    expect(key.primitiveState(slot)).toBe(secretish);
    expect(made).toBe(1);
    // Another slot, another key: their own state.
    expect(key.primitiveState({ make: () => 7, dispose: () => {} })).toBe(7);
    expect(AES128Key.fromBytes(randomBytes(16)).primitiveState({ make: () => 'fresh', dispose: () => {} })).toBe('fresh');
    expect(Object.keys(key)).toEqual(['kind']);
    expect(Object.getOwnPropertySymbols(key)).toEqual([]);
    for (const text of renderings(key)) expect(text).not.toContain(secretish.derived);
  });

  test('aes128-key/releasePrimitives: every state disposed once, then made again on the next use', () => {
    const key = AES128Key.fromBytes(randomBytes(16));
    const disposed: string[] = [];
    let made = 0;
    const a: PrimitiveSlot<string> = { make: () => `a${made++}`, dispose: (s) => disposed.push(s) };
    const b: PrimitiveSlot<string> = { make: () => `b${made++}`, dispose: (s) => disposed.push(s) };
    expect([key.primitiveState(a), key.primitiveState(b)]).toEqual(['a0', 'b1']);
    key.releasePrimitives();
    expect(disposed).toEqual(['a0', 'b1']);
    key.releasePrimitives(); // nothing held: nothing disposed twice
    expect(disposed).toEqual(['a0', 'b1']);
    expect(key.primitiveState(a)).toBe('a2');
  });

  test('aes128-key/releasePrimitives: AES and CMAC give the same answers after it (their contexts ended, then made anew)', () => {
    const key = AES128Key.fromBytes(randomBytes(16));
    const block = randomBytes(16);
    const message = randomBytes(37);
    const before = { enc: aesEncryptBlock(key, block), dec: aesDecryptECB(key, block), tag: aesCmac(key, message) };
    key.releasePrimitives();
    expect(aesCmac(key, message).equals(before.tag)).toBe(true);
    key.releasePrimitives();
    expect(aesDecryptECB(key, block).equals(before.dec)).toBe(true);
    expect(aesEncryptBlock(key, block).equals(before.enc)).toBe(true);
  });
});
