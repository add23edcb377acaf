import { DEFAULT_PEER_SETTINGS, parsePeerSettings, serializePeerSettings } from './peer-settings';

describe('peers/settings/adapter', () => {
  it('round-trips the adapter part; the defaults stay without one', () => {
    const s = { ...DEFAULT_PEER_SETTINGS, adapter: { apiUrl: 'http://cs:8080', options: { applicationId: 'a', tenantId: 't' } } };
    expect(parsePeerSettings(serializePeerSettings(s))).toEqual(s);
    expect(parsePeerSettings(serializePeerSettings(DEFAULT_PEER_SETTINGS))).toEqual(DEFAULT_PEER_SETTINGS);
    expect(serializePeerSettings(DEFAULT_PEER_SETTINGS)).not.toContain('adapter');
  });
  it('an unreadable adapter part is dropped, the rest kept; non-string options ignored', () => {
    expect(parsePeerSettings('{"adapter":{"apiUrl":5}}')).not.toHaveProperty('adapter');
    expect(parsePeerSettings('{"adapter":"x","authorizationSHA256":null}')).toEqual(DEFAULT_PEER_SETTINGS);
    expect(parsePeerSettings('{"adapter":{"apiUrl":"u","options":{"a":"b","n":1}}}').adapter).toEqual({ apiUrl: 'u', options: { a: 'b' } });
  });
});
