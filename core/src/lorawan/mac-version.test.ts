import { MAC_VERSIONS, devNonceIsCounter, isLegacy, parseMACVersion } from './mac-version';
import { ParseError } from './parse-error';

describe('mac-version', () => {
  test.each([
    ['1.0', '1.0.0'],
    ['1.0.0', '1.0.0'],
    ['1.0.1', '1.0.1'],
    ['1.0.2', '1.0.2'],
    ['1.0.3', '1.0.3'],
    ['1.0.4', '1.0.4'],
    ['1.1', '1.1'],
    ['1.1.0', '1.1'],
    ['MAC_V1_0', '1.0.0'],
    ['MAC_V1_0_1', '1.0.1'],
    ['MAC_V1_0_2', '1.0.2'],
    ['MAC_V1_0_3', '1.0.3'],
    ['MAC_V1_0_4', '1.0.4'],
    ['MAC_V1_1', '1.1'],
    ['v1.0.3', '1.0.3'],
    ['V1.1', '1.1'],
    [' 1.0.2 ', '1.0.2'],
    ['1.0.2rB', '1.0.2'],
    ['1.0.2-b', '1.0.2'],
    ['1.0.2revB', '1.0.2'],
    ['1.0.2-rev-a', '1.0.2'],
    ['MAC_V1_0_2_REV_B', '1.0.2'],
    ['LoRaWAN 1.0.3', '1.0.3'],
  ])('mac-version/parses %j', (input, expected) => {
    expect(parseMACVersion(input)).toBe(expected);
  });

  test.each([[''], ['1'], ['1.2'], ['1.0.5'], ['2.0'], ['1.1.1'], ['garbage'], ['MAC_V2'], ['1,0,3'], ['1.0.3.0']])('mac-version/rejects %j with a ParseError', (input) => {
    expect(() => parseMACVersion(input)).toThrow(ParseError);
  });

  test('mac-version/rejects non-strings', () => {
    for (const bad of [undefined, null, 1.1, 103, {}, ['1.1']]) expect(() => parseMACVersion(bad)).toThrow(ParseError);
  });

  test('mac-version/the error names the field and the accepted versions', () => {
    try {
      parseMACVersion('9.9', 'MACVersion');
      throw new Error('expected a ParseError');
    } catch (e) {
      expect(e).toBeInstanceOf(ParseError);
      expect((e as ParseError).field).toBe('MACVersion');
      for (const v of MAC_VERSIONS) expect((e as ParseError).message).toContain(v);
    }
  });

  test('mac-version/legacy and DevNonce counter rules', () => {
    expect(MAC_VERSIONS.filter(isLegacy)).toEqual(['1.0.0', '1.0.1', '1.0.2', '1.0.3', '1.0.4']);
    expect(MAC_VERSIONS.filter(devNonceIsCounter)).toEqual(['1.0.4', '1.1']);
  });
});
