import * as lorawan from './index';

/** The names other modules are written against; a rename here breaks them. */
const FUNCTIONS = [
  'aesEncryptBlock',
  'aesEncryptECB',
  'aesDecryptECB',
  'aesCmac',
  'cmacSubkeys',
  'aesKeyWrap',
  'aesKeyUnwrap',
  'sessionKeyBlock10',
  'sessionKeyBlock11',
  'jsKeyBlock',
  'deriveSessionKeys10',
  'deriveSessionKeys11',
  'deriveJSIntKey',
  'deriveJSEncKey',
  'decodeJoinRequest',
  'joinRequestMICInput',
  'encodeJoinRequest',
  'decodeRejoinRequest',
  'rejoinRequestMICInput',
  'encodeRejoinRequest',
  'encodeJoinAcceptPlain',
  'joinAcceptMICInput11',
  'encryptJoinAccept',
  'decryptJoinAccept',
  'decodeJoinAccept',
  'buildJoinAccept10',
  'buildJoinAccept11',
  'verifyJoinAcceptMIC10',
  'verifyJoinAcceptMIC11',
  // existing files
  'parseHex',
  'toHex',
  'reversed',
  'parseEUI64',
  'eui64ToLE',
  'eui64FromLE',
  'parseDevAddr',
  'devAddrToLE',
  'devAddrFromLE',
  'parseNetID',
  'netIDToLE',
  'netIDFromLE',
  'devNonce',
  'joinNonce',
  'devNonceToLE',
  'joinNonceToLE',
  'parseMACVersion',
  'isLegacy',
  'devNonceIsCounter',
] as const;

const CLASSES = ['AES128Key', 'ParseError', 'FrameError', 'KeyWrapError'] as const;

describe('index', () => {
  test.each(FUNCTIONS)('index/exports function %s', (name) => {
    expect(typeof (lorawan as Record<string, unknown>)[name]).toBe('function');
  });

  test.each(CLASSES)('index/exports class %s', (name) => {
    expect(typeof (lorawan as Record<string, unknown>)[name]).toBe('function');
  });

  test('index/exports the join-accept constants', () => {
    expect(lorawan.JOIN_ACCEPT_MHDR).toBe(0x20);
    expect(lorawan.DL_SETTINGS_OPT_NEG).toBe(0x80);
  });

  test('index/FrameError and KeyWrapError carry codes', () => {
    const f = new lorawan.FrameError('RejoinType', 'x');
    expect(f).toBeInstanceOf(Error);
    expect(f.code).toBe('RejoinType');
    expect(f.name).toBe('FrameError');
    expect(new lorawan.KeyWrapError('Integrity', 'x').code).toBe('Integrity');
  });
});
