import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AES128Key } from '../lorawan/aes128-key';
import { parseEUI64, parseNetID, type EUI64 } from '../lorawan/identifiers';
import { ParseError } from '../lorawan/parse-error';
import type { Peer } from '../peers/peer';
import type { Store } from '../store/store';
import type { Principal } from '../tenants/principal';
import { Refusal } from '../tenants/refusal';
import type { ClaimService } from './claim-service';

/** Identifies the peer behind a request on the BI listener (its client certificate); null: none. */
export type PeerIdentifier = (req: FastifyRequest) => Promise<Peer | null>;

interface ClaimBody {
  ownerToken?: unknown;
  homeNetID?: unknown;
  homeNSID?: unknown;
  asID?: unknown;
  lock?: unknown;
  regenerateOwnerToken?: unknown;
  kek?: unknown;
}

/**
 * The claim API of The Things Industries' Join Server v2 ("TTJS v2"), which The Things Stack's
 * device claiming server speaks, on the BI listener: the caller is a registered peer,
 * identified by its client certificate, claiming on behalf of its tenant.
 *
 * - `PUT /api/v2/devices/{DevEUI}/claim` `{ownerToken, homeNetID, homeNSID?, asID, lock, regenerateOwnerToken?, kek?: {label, key}}`:
 *   claims the device with its owner token, binds it to the network server with that NetID
 *   (and NSID), and to the application server with that AS-ID (created with the KEK when the
 *   tenant has none: the KEK is sealed, never echoed), locked if asked; 200 `{}`.
 * - `GET` the same path: `{homeNetID, homeNSID?, locked}` of a device the tenant claimed.
 * - `DELETE` the same path: unclaims; `DELETE /api/v2/devices/{EUI,EUI...}/claims`: a batch,
 *   400 with `{EUI: {message}}` for those that failed.
 *
 * Errors are `{message}`: 400 bad input, 401 no registered peer, 403 wrong owner token (or
 * another owner's device), 404 no such device, 409 locked, 429 too many wrong tokens.
 */
export function registerTTJSClaimRoutes(app: FastifyInstance, deps: { readonly store: Store; readonly claims: ClaimService; readonly identify: PeerIdentifier }): void {
  const principal = async (req: FastifyRequest): Promise<Principal> => {
    const peer = await deps.identify(req);
    const tenant = peer ? await deps.store.getTenant(peer.tenantID) : null;
    if (!peer || !tenant) throw new Refusal('unauthenticated', 'a client certificate of a registered peer is required');
    return { tenant, tenantID: tenant.id, scopes: ['claims', 'devices:read'], actor: `peer:${peer.name}`, source: req.ip };
  };
  const fail = (reply: FastifyReply, err: unknown): FastifyReply => {
    if (err instanceof Refusal) {
      if (err.retryAfterSeconds !== undefined) reply.header('retry-after', String(err.retryAfterSeconds));
      return reply.code(err.status === 422 ? 400 : err.status).send({ message: err.message });
    }
    if (err instanceof ParseError) return reply.code(400).send({ message: err.message });
    throw err;
  };
  const ownDevice = async (p: Principal, devEUI: EUI64) => {
    const d = await deps.store.getDevice(devEUI);
    if (!d) throw new Refusal('not-found', `device ${devEUI} is not provisioned`);
    if (d.ownership.owner === null) throw new Refusal('not-found', `device ${devEUI} is not claimed`);
    if (d.ownership.owner !== p.tenantID) throw new Refusal('forbidden', `device ${devEUI} is claimed by another owner`);
    return d;
  };

  app.put<{ Params: { devEUI: string } }>('/api/v2/devices/:devEUI/claim', async (req, reply) => {
    try {
      const p = await principal(req);
      const devEUI = parseEUI64(req.params.devEUI, 'DevEUI');
      const body = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as ClaimBody;
      if (typeof body.ownerToken !== 'string' || body.ownerToken === '') throw new ParseError('ownerToken', 'required');
      const homeNetID = parseNetID(body.homeNetID, 'homeNetID');
      const homeNSID = body.homeNSID === undefined || body.homeNSID === '' ? undefined : parseEUI64(body.homeNSID, 'homeNSID');
      if (body.asID !== undefined && typeof body.asID !== 'string') throw new ParseError('asID', 'expected a string');
      if (body.lock !== undefined && typeof body.lock !== 'boolean') throw new ParseError('lock', 'expected true or false');
      const kek = parseKEK(body.kek);
      // Resolve the network first: a claim that cannot be bound is refused before it is made.
      const ns = await deps.claims.resolveNetworkServer(p.tenantID, { homeNetID, ...(homeNSID ? { homeNSID } : {}) });
      await deps.claims.claim(p, devEUI, body.ownerToken);
      const as = typeof body.asID === 'string' && body.asID !== '' ? await deps.claims.applicationServerByASID(p, body.asID, kek) : null;
      await deps.claims.bind(p, devEUI, { networkServer: ns.name, applicationServer: as ? as.name : null, locked: body.lock === true });
      if (body.regenerateOwnerToken === true) await deps.claims.regenerateToken(p, devEUI);
      return reply.code(200).send({});
    } catch (err) {
      return fail(reply, err);
    }
  });

  app.get<{ Params: { devEUI: string } }>('/api/v2/devices/:devEUI/claim', async (req, reply) => {
    try {
      const p = await principal(req);
      const d = await ownDevice(p, parseEUI64(req.params.devEUI, 'DevEUI'));
      const ns = d.nsPeer ? await deps.store.getPeer(d.nsPeer) : null;
      if (!ns || ns.kind !== 'ns') return reply.code(200).send({ locked: d.ownership.locked });
      return reply.code(200).send({ homeNetID: ns.netID.toUpperCase(), ...(ns.nsID ? { homeNSID: ns.nsID.toUpperCase() } : {}), locked: d.ownership.locked });
    } catch (err) {
      return fail(reply, err);
    }
  });

  app.delete<{ Params: { devEUI: string } }>('/api/v2/devices/:devEUI/claim', async (req, reply) => {
    try {
      const p = await principal(req);
      const devEUI = parseEUI64(req.params.devEUI, 'DevEUI');
      await ownDevice(p, devEUI);
      await deps.claims.unclaim(p, devEUI);
      return reply.code(200).send({});
    } catch (err) {
      return fail(reply, err);
    }
  });

  app.delete<{ Params: { euis: string } }>('/api/v2/devices/:euis/claims', async (req, reply) => {
    try {
      const p = await principal(req);
      const list = req.params.euis.split(',').map((s) => s.trim()).filter((s) => s !== '');
      if (list.length === 0 || list.length > 1000) throw new ParseError('EUIs', 'expected 1 to 1000 comma-separated DevEUIs');
      const errors: Record<string, { message: string }> = {};
      for (const text of list) {
        try {
          const devEUI = parseEUI64(text, 'DevEUI');
          await ownDevice(p, devEUI);
          await deps.claims.unclaim(p, devEUI);
        } catch (err) {
          if (!(err instanceof Refusal || err instanceof ParseError)) throw err;
          errors[text] = { message: err.message };
        }
      }
      return Object.keys(errors).length > 0 ? reply.code(400).send(errors) : reply.code(200).send({});
    } catch (err) {
      return fail(reply, err);
    }
  });
}

function parseKEK(value: unknown): { label: string; key: AES128Key } | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object') throw new ParseError('kek', 'expected {label, key}');
  const { label, key } = value as { label?: unknown; key?: unknown };
  if (typeof label !== 'string' || label.trim() === '') throw new ParseError('kek.label', 'required');
  return { label, key: AES128Key.fromHex(key, 'kek.key') };
}
