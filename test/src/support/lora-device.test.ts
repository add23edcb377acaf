import { AES128Key } from '../../../core/src/lorawan/aes128-key';
import { deriveJSIntKey } from '../../../core/src/lorawan/derivation';
import { parseDevAddr, parseEUI64, parseNetID } from '../../../core/src/lorawan/identifiers';
import { buildJoinAccept10, buildJoinAccept11, DL_SETTINGS_OPT_NEG, encodeJoinAcceptPlain, encryptJoinAccept } from '../../../core/src/lorawan/join-accept';
import { devNonce, joinNonce } from '../../../core/src/lorawan/nonces';
import { acceptJoin, powerOn, randomKey, type DeviceKeys } from './lora-device';

/**
 * The simulated device every e2e join goes through keeps its JoinNonce as a device does: a
 * join-accept it would drop is an error, so no e2e test can pass on a join a device never made.
 */
const JOIN_EUI = '70b3d57ed0000000';

function joinAccept(d: DeviceKeys, n: number, devNonceValue: number): string {
  const fields = { joinNonce: joinNonce(n), netID: parseNetID('000013'), devAddr: parseDevAddr('26011234'), rxDelay: 1 };
  if (!d.nwkKey) return buildJoinAccept10(AES128Key.fromHex(d.appKey), { ...fields, dlSettings: 0 }).toString('hex');
  const nwkKey = AES128Key.fromHex(d.nwkKey);
  const jsIntKey = deriveJSIntKey(nwkKey, parseEUI64(d.devEUI));
  return buildJoinAccept11(jsIntKey, nwkKey, 0xff, parseEUI64(JOIN_EUI), devNonce(devNonceValue), { ...fields, dlSettings: DL_SETTINGS_OPT_NEG }).toString('hex');
}

describe('support/simulated device JoinNonce', () => {
  const d11: DeviceKeys = { devEUI: '00000000000a0011', joinEUI: JOIN_EUI, macVersion: '1.1', appKey: randomKey(), nwkKey: randomKey() };
  const d103: DeviceKeys = { devEUI: '00000000000a0103', joinEUI: JOIN_EUI, macVersion: '1.0.3', appKey: randomKey() };
  const d104: DeviceKeys = { devEUI: '00000000000a0104', joinEUI: JOIN_EUI, macVersion: '1.0.4', appKey: randomKey() };

  test.each([d11, d103, d104])('$macVersion: a device at power on drops a join-accept with JoinNonce 0', (d) => {
    powerOn(d);
    expect(() => acceptJoin(d, 1, joinAccept(d, 0, 1))).toThrow(/the device would drop this join-accept: JoinNonce 0 /);
    expect(acceptJoin(d, 2, joinAccept(d, 1, 2))).toMatchObject({ micValid: true, joinNonce: 1 });
  });

  test('1.1: a repeated JoinNonce or a lower one is dropped; the stored one stays', () => {
    powerOn(d11);
    expect(acceptJoin(d11, 1, joinAccept(d11, 5, 1)).joinNonce).toBe(5);
    expect(() => acceptJoin(d11, 2, joinAccept(d11, 5, 2))).toThrow('the device would drop this join-accept: JoinNonce 5 is not greater than its stored 5');
    expect(() => acceptJoin(d11, 3, joinAccept(d11, 4, 3))).toThrow('the device would drop this join-accept: JoinNonce 4 is not greater than its stored 5');
    expect(acceptJoin(d11, 4, joinAccept(d11, 6, 4)).joinNonce).toBe(6);
  });

  test('1.0.3: a different JoinNonce is kept even when lower; the same one is dropped', () => {
    powerOn(d103);
    expect(acceptJoin(d103, 1, joinAccept(d103, 9, 1)).joinNonce).toBe(9);
    expect(acceptJoin(d103, 2, joinAccept(d103, 3, 2)).joinNonce).toBe(3);
    expect(() => acceptJoin(d103, 3, joinAccept(d103, 3, 3))).toThrow('the device would drop this join-accept: JoinNonce 3 is the same as its stored 3');
  });

  test('a join-accept whose MIC does not verify is not kept: it neither throws nor changes the stored JoinNonce', () => {
    powerOn(d104);
    expect(acceptJoin(d104, 1, joinAccept(d104, 2, 1)).joinNonce).toBe(2);
    // Encrypted with the device's key, but with a MIC of zeros.
    const plain = encodeJoinAcceptPlain({ joinNonce: joinNonce(1), netID: parseNetID('000013'), devAddr: parseDevAddr('26011234'), dlSettings: 0, rxDelay: 1 });
    const forged = encryptJoinAccept(AES128Key.fromHex(d104.appKey), Buffer.concat([plain, Buffer.alloc(4)])).toString('hex');
    expect(acceptJoin(d104, 2, forged)).toMatchObject({ micValid: false, joinNonce: 1 });
    expect(() => acceptJoin(d104, 3, joinAccept(d104, 2, 3))).toThrow(/not greater than its stored 2/);
  });
});
