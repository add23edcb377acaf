import * as pkcs11js from 'pkcs11js';
import { createSoftHsmToken } from '../../../core/src/keys/softhsm-token.test-helper';
import { transcript, useBackend } from '../support/joinery-cli';

/**
 * The end-to-end join suite of join.test.ts, unchanged, with the PKCS#11 key vault on a
 * temporary SoftHSM2 token: every `joinery` process of this file gets `--vault pkcs11
 * --pkcs11-lib ... --pkcs11-token ...` and the PIN and SOFTHSM2_CONF in its environment. The
 * token is made, and the backend chosen, while jest collects the tests, before any of the
 * suite's hooks runs.
 */
const token = createSoftHsmToken('e2e');
useBackend({ args: token.cliArgs, env: token.env });

describe('vault pkcs11', () => {
  // The same file, run a second time in this file's module registry: its tests and hooks
  // register inside this describe block.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('./join.test');

  describe('e2e/pkcs11', () => {
    test("the devices' root keys are HSM objects, and the PIN appears in no output", () => {
      const raw = new pkcs11js.PKCS11();
      raw.load(token.library);
      raw.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
      try {
        const slot = raw.C_GetSlotList(true).find((s) => raw.C_GetTokenInfo(s).label.trim() === token.label)!;
        const session = raw.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION);
        raw.C_Login(session, pkcs11js.CKU_USER, token.pin);
        const labelled = (label: string): number => {
          raw.C_FindObjectsInit(session, [
            { type: pkcs11js.CKA_LABEL, value: label },
            { type: pkcs11js.CKA_TOKEN, value: true },
          ]);
          const found = raw.C_FindObjects(session, 10);
          raw.C_FindObjectsFinal(session);
          return found.length;
        };
        expect(labelled('joinery:0000000000000103:AppKey')).toBe(1);
        expect(labelled('joinery:0000000000000110:AppKey')).toBe(1);
        expect(labelled('joinery:0000000000000110:NwkKey')).toBe(1);
        expect(labelled('joinery:seal-wrap')).toBeGreaterThanOrEqual(1);
      } finally {
        raw.C_Finalize();
      }
      expect(transcript.join('\n')).not.toContain(token.pin);
    });
  });
});
