import { ParseError } from './parse-error';
import { bufferView, parseHex, reversed, toHex } from './hex';

function parseErrorOf(fn: () => unknown): ParseError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ParseError) return e;
    throw e;
  }
  throw new Error('expected a ParseError');
}

describe('hex', () => {
  test('hex/parseHex accepts a 0x or 0X prefix', () => {
    expect(toHex(parseHex('0x0a1b', 'f'))).toBe('0a1b');
    expect(toHex(parseHex('0X0A1B', 'f'))).toBe('0a1b');
  });

  test('hex/parseHex accepts upper and mixed case, output is lower case', () => {
    expect(toHex(parseHex('ABCDEF', 'f'))).toBe('abcdef');
    expect(toHex(parseHex('aBcDeF', 'f'))).toBe('abcdef');
  });

  test('hex/parseHex accepts surrounding whitespace and - or : separators', () => {
    expect(toHex(parseHex('  00-16-C0-01-FF-FE-00-01 ', 'f', 8))).toBe('0016c001fffe0001');
    expect(toHex(parseHex('00:16:c0:01', 'f'))).toBe('0016c001');
  });

  test('hex/parseHex accepts the empty string when no length is required', () => {
    expect(parseHex('', 'f')).toHaveLength(0);
    parseErrorOf(() => parseHex('', 'f', 1));
  });

  test('hex/parseHex rejects odd length', () => {
    const err = parseErrorOf(() => parseHex('abc', 'DevEUI'));
    expect(err.field).toBe('DevEUI');
    expect(err.reason).toMatch(/odd/);
    parseErrorOf(() => parseHex('0x1', 'f'));
  });

  test('hex/parseHex rejects non-hex characters', () => {
    for (const bad of ['zz', '0g', '12 34', '0x0x12', '+1', '١٢']) {
      const err = parseErrorOf(() => parseHex(bad, 'f'));
      expect(err.reason).toMatch(/not a hex string/);
    }
  });

  test('hex/parseHex rejects a wrong byte length and says which', () => {
    const err = parseErrorOf(() => parseHex('0102', 'NetID', 3));
    expect(err.message).toBe('NetID: expected 3 bytes (6 hex digits), got 2');
  });

  test('hex/parseHex rejects non-strings', () => {
    for (const bad of [undefined, null, 12, {}, [], Buffer.from('01', 'hex')]) parseErrorOf(() => parseHex(bad, 'f'));
  });

  test('hex/ParseError names its field', () => {
    const err = parseErrorOf(() => parseHex(1, 'JoinEUI'));
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('ParseError');
    expect(err.message).toMatch(/^JoinEUI: /);
  });

  test('hex/toHex and reversed', () => {
    const bytes = Buffer.from('00010203', 'hex');
    expect(toHex(reversed(bytes))).toBe('03020100');
    expect(toHex(bytes)).toBe('00010203');
    expect(reversed(Buffer.alloc(0))).toHaveLength(0);
    const backing = Buffer.from('ffaabbff', 'hex');
    expect(toHex(new Uint8Array(backing.buffer, backing.byteOffset + 1, 2))).toBe('aabb');
  });

  test('hex/bufferView shares memory with a Uint8Array without copying', () => {
    const u8 = new Uint8Array([1, 2, 3, 4]);
    const view = bufferView(u8.subarray(1, 3));
    expect(toHex(view)).toBe('0203');
    u8[1] = 9;
    expect(view[0]).toBe(9);
    const buf = Buffer.from('01', 'hex');
    expect(bufferView(buf)).toBe(buf);
  });
});
