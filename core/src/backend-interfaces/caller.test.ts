import { randomBytes } from 'node:crypto';
import { parseNetID } from '../lorawan/identifiers';
import type { NetworkServerPeer } from '../peers/peer';
import { firstCertificate, withRenewedCertificate, withRetiredCertificates } from '../peers/peer-certificates';
import { DEFAULT_PEER_SETTINGS } from '../peers/peer-settings';
import type { AuditEvent } from '../store/audit-event';
import { SqliteStore } from '../store/sqlite/sqlite-store';
import { OPERATOR_TENANT } from '../tenants/tenant';
import { authorizationDigest, resolveCaller } from './caller';

const audit = (action: string): AuditEvent => ({ at: new Date(), actor: 'test', tenantID: null, source: null, action, devEUI: null, detail: {} });

describe('resolveCaller: the peer lifecycle', () => {
  const store = SqliteStore.open(':memory:');
  const oldFingerprint = randomBytes(32).toString('hex');
  const newFingerprint = randomBytes(32).toString('hex');
  const peer: NetworkServerPeer = {
    kind: 'ns',
    name: 'ns-a',
    netID: parseNetID('000013'),
    nsID: null,
    vendor: 'generic',
    certFingerprint: oldFingerprint,
    certificates: firstCertificate(oldFingerprint, new Date(), null),
    state: 'enabled',
    tenantID: OPERATOR_TENANT,
    kekLabel: '000013',
    sealedKEK: randomBytes(40),
    settings: { ...DEFAULT_PEER_SETTINGS, authorizationSHA256: authorizationDigest('Bearer s3cret') },
    createdAt: new Date(),
  };
  const byCert = (fingerprint: string, now?: Date) => resolveCaller(store, { certFingerprint: fingerprint, pathPeer: null, authorization: 'Bearer s3cret' }, now);
  const byPath = (fingerprint: string | null) => resolveCaller(store, { certFingerprint: fingerprint, pathPeer: 'ns-a', authorization: 'Bearer s3cret' });

  beforeAll(() => store.insertPeer(peer));
  afterAll(() => store.close());

  test('a renewed certificate and the one before both identify the peer during the overlap; only the new one after it', async () => {
    const overlapEnd = new Date(Date.now() + 3_600_000);
    const current = (await store.getPeer('ns-a'))!;
    const certificates = withRenewedCertificate(current, { fingerprint: newFingerprint, issuedAt: new Date(), notAfter: null, retiresAt: null }, overlapEnd);
    await store.updatePeer('ns-a', { certificates, certFingerprint: newFingerprint }, audit('peer.certificate.renew'));
    expect((await byCert(oldFingerprint)).kind).toBe('peer');
    expect((await byCert(newFingerprint)).kind).toBe('peer');
    expect((await byPath(oldFingerprint)).kind).toBe('peer');
    const after = new Date(overlapEnd.getTime() + 1);
    expect(await byCert(oldFingerprint, after)).toEqual({ kind: 'unknown', reason: 'the client certificate of ns-a was retired (renewed or revoked)' });
    expect((await byCert(newFingerprint, after)).kind).toBe('peer');
  });

  test('a retired (revoked) certificate is refused at once, on the shared endpoint and on /bi/<name>', async () => {
    const current = (await store.getPeer('ns-a'))!;
    await store.updatePeer('ns-a', { certificates: withRetiredCertificates(current, new Date()) }, audit('peer.certificate.retire'));
    expect((await byCert(oldFingerprint)).kind).toBe('unknown');
    expect((await byPath(oldFingerprint)).kind).toBe('unknown');
    expect((await byCert(newFingerprint)).kind).toBe('peer');
  });

  test('a disabled peer is UnknownSender (once it proved who it is), an enabled one is served again', async () => {
    await store.updatePeer('ns-a', { state: 'disabled' }, audit('peer.disable'));
    expect(await byCert(newFingerprint)).toEqual({ kind: 'unknown', reason: 'ns-a is disabled' });
    expect(await byPath(null)).toEqual({ kind: 'unknown', reason: 'ns-a is disabled' });
    // A wrong secret is still told nothing about the peer.
    expect((await resolveCaller(store, { certFingerprint: null, pathPeer: 'ns-a', authorization: 'Bearer wrong' })).kind).toBe('unauthenticated');
    await store.updatePeer('ns-a', { state: 'enabled' }, audit('peer.enable'));
    expect((await byCert(newFingerprint)).kind).toBe('peer');
  });

  test("a deleted peer's certificates identify nobody", async () => {
    expect(await store.deletePeer('ns-a', false, audit('peer.delete'))).toEqual({ kind: 'deleted', unbound: 0 });
    expect((await byCert(newFingerprint)).kind).toBe('unknown');
    expect((await byCert(oldFingerprint)).kind).toBe('unknown');
  });
});
