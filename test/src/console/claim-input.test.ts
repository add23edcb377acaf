import { parseClaimCSV } from '../../../console/src/claim/claim-csv';
import { parseTR005 } from '../../../console/src/claim/tr005';

// What the console reads from a device label (TR005 QR payload) and from a bulk-claim CSV,
// before anything is sent to the admin API.
describe('TR005 QR payload', () => {
  test('identities and owner token, optional fields in any order, any case of hex', () => {
    expect(parseTR005('LW:D0:70B3D57ED0000000:0004a30b001c0530:00000000:OAB12CD34')).toEqual({
      joinEUI: '70B3D57ED0000000',
      devEUI: '0004A30B001C0530',
      profileID: '00000000',
      ownerToken: 'AB12CD34',
    });
    expect(parseTR005(' LW:D0:70B3D57ED0000000:0004A30B001C0530:A1B2C3D4:S1234:OZZ9:CAF2C ')).toMatchObject({ ownerToken: 'ZZ9', profileID: 'A1B2C3D4' });
    expect(parseTR005('LW:D0:70B3D57ED0000000:0004A30B001C0530:00000000')).not.toHaveProperty('ownerToken');
  });

  test('what is wrong is said, not guessed', () => {
    expect(parseTR005('https://example.com')).toMatch(/LW:D0/);
    expect(parseTR005('LW:D1:70B3D57ED0000000:0004A30B001C0530:00000000')).toMatch(/LW:D0/);
    expect(parseTR005('LW:D0:70B3D57ED000000:0004A30B001C0530:00000000')).toMatch(/JoinEUI/);
    expect(parseTR005('LW:D0:70B3D57ED0000000:0004A30B001C053G:00000000')).toMatch(/DevEUI/);
    expect(parseTR005('LW:D0:70B3D57ED0000000:0004A30B001C0530:0000')).toMatch(/ProfileID/);
    expect(parseTR005('LW:D0:70B3D57ED0000000:0004A30B001C0530:00000000:Oab-12')).toMatch(/owner token/);
  });
});

describe('bulk-claim CSV', () => {
  test('dev_eui,owner_token in any column order, extra columns and blank lines ignored', () => {
    const csv = 'label,owner_token,dev_eui\nkitchen,ab12,0x0004A30B001C0530\n\n"hall","ZZ9","0004a30b001c0531"\n';
    expect(parseClaimCSV(csv)).toEqual({
      rows: [
        { line: 2, devEUI: '0004A30B001C0530', ownerToken: 'AB12' },
        { line: 4, devEUI: '0004A30B001C0531', ownerToken: 'ZZ9' },
      ],
      errors: [],
    });
  });

  test('a qr column of label payloads', () => {
    expect(parseClaimCSV('qr\nLW:D0:70B3D57ED0000000:0004A30B001C0530:00000000:OAB12\n').rows).toEqual([{ line: 2, devEUI: '0004A30B001C0530', ownerToken: 'AB12' }]);
  });

  test('every bad line is named', () => {
    const r = parseClaimCSV('dev_eui,owner_token\n0004A30B001C05,AB\n0004A30B001C0530,\n0004A30B001C0531,OK1\n');
    expect(r.errors).toEqual(['Line 2: dev_eui is not 16 hex digits.', 'Line 3: owner_token is not 1-32 letters and digits.']);
    expect(r.rows).toHaveLength(1);
    expect(parseClaimCSV('devices\n1,2').errors).toEqual([expect.stringMatching(/first line/)]);
    expect(parseClaimCSV('qr\nLW:D0:70B3D57ED0000000:0004A30B001C0530:00000000\n').errors).toEqual(['Line 2: the QR code has no owner token.']);
  });
});
