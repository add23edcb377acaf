import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { MasterKey } from '../keys/master-key';
import { AES128Key } from '../lorawan/aes128-key';
import { createLogger, KEY_FIELDS } from './logger';

/** Everything the logger writes, for a test to grep. */
function capture(): { log: ReturnType<typeof createLogger>; text: () => string } {
  let out = '';
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out += chunk.toString();
      cb();
    },
  });
  return { log: createLogger({ level: 'trace', destination }), text: () => out };
}

describe('log/redaction by construction', () => {
  test('no key hex, in any case or spelling, reaches the output whatever carries it', () => {
    const keyBytes = randomBytes(16);
    const hex = keyBytes.toString('hex');
    const masterBytes = randomBytes(32);
    const masterHex = masterBytes.toString('hex');
    const key = AES128Key.fromBytes(Buffer.from(keyBytes));
    const master = MasterKey.fromBytes(Buffer.from(masterBytes));
    const { log, text } = capture();

    log.info({ key, master }, 'objects');
    log.info({ nested: { deeper: { still: { appKey: key, AppKey: hex, list: [key, master] } } } }, 'nested');
    log.info({ buffer: keyBytes, payload: { bytes: keyBytes, view: new Uint8Array(keyBytes) } }, 'buffers under harmless names');
    log.info({ AppKey: hex, nwk_key: hex.toUpperCase(), kek: `0x${hex}`, masterKey: masterHex, AESKey: hex, aes_key: hex, rootKey: hex, 'transport-kek': hex, pin: '1234' }, 'hex under key field names');
    log.info({ value: hex, note: `device row: ${hex}`, upper: hex.toUpperCase(), prefixed: `0x${hex}`, master: masterHex }, 'hex under harmless names');
    log.error({ err: new Error(`unwrap failed for ${hex} with ${String(key)}`) }, 'error with a key in its message');
    const withCause = new Error('outer', { cause: new Error(`inner ${masterHex}`) });
    Object.assign(withCause, { appKey: hex, detail: hex });
    log.error(withCause);
    log.warn(`a message with ${hex} in it`);
    log.warn('printf %s and %o', hex, { k: hex });
    log.child({ binding: hex, appKey: hex }).info('a child logger');
    log.info({ map: new Map([['appKey', hex]]), json: JSON.stringify({ AppKey: hex }) }, 'maps and JSON text');
    log.info({ template: `${key} ${master}` }, 'template literals of key objects');

    const out = text();
    expect(out.split('\n').filter(Boolean)).toHaveLength(12);
    for (const secret of [hex, masterHex]) {
      expect(out.toLowerCase()).not.toContain(secret);
      // nor as the bytes in decimal (how a Buffer would print as JSON)
    }
    expect(out).not.toContain(`[${[...keyBytes].slice(0, 4).join(',')}`);
    expect(out).toContain('[AES128Key redacted]');
    expect(out).toContain('[16 bytes]');
    expect(out).toContain('"type":"Error"');
    expect(out).toContain('caused by: Error: inner [key-like hex redacted]');
  });

  test('what is not key material is kept: DevEUI, wrapped keys (48 hex), SessionKeyID, KEKLabel, messages', () => {
    const { log, text } = capture();
    const wrapped = randomBytes(24).toString('hex');
    log.info({ devEUI: '0004a30b001c0530', AESKey: undefined, wrapped, sessionKeyID: 'abc', kekLabel: '000013', result: 'Success' }, 'bi request');
    const line = JSON.parse(text()) as Record<string, unknown>;
    expect(line).toMatchObject({ devEUI: '0004a30b001c0530', wrapped, sessionKeyID: 'abc', kekLabel: '000013', result: 'Success', msg: 'bi request' });
  });

  test("every key field name is redacted at every depth (the scrub, not only pino's top-level paths)", () => {
    const { log, text } = capture();
    const hex = randomBytes(24).toString('hex'); // 48 digits: not masked as key-like hex, only by name
    for (const name of KEY_FIELDS) {
      log.info({ [name]: hex, a: { [name]: hex, b: { [name]: hex, c: { d: [{ [name]: hex }] } } } }, 'deep');
    }
    expect(text().split('\n').filter(Boolean)).toHaveLength(KEY_FIELDS.length);
    expect(text()).not.toContain(hex);
  });
});
