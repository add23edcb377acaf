import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AES128Key } from '../lorawan/aes128-key';
import { parseEUI64, parseNetID, type EUI64 } from '../lorawan/identifiers';
import { ParseError } from '../lorawan/parse-error';
import type { Peer } from '../peers/peer';
import type { DeviceRegistry } from '../store/ports/device-registry';
import type { PeerRegistry } from '../store/ports/peer-registry';
import type { TenantRegistry } from '../store/ports/tenant-registry';
import type { Principal } from '../tenants/principal';
import { Refusal } from '../tenants/refusal';
import { WRONG_OWNER_TOKEN_MESSAGE, type ClaimService } from './claim-service';

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
 * DevEUIs one batch unclaim may name. The Things Stack sends at most 20 (its
 * BatchUnclaimEndDevicesRequest takes 1-20 devices: TTS api/ttn/lorawan/v3/deviceclaimingserver.proto),
 * all in one path segment; Joinery takes up to this many.
 */
export const MAX_BATCH_UNCLAIM = 500;

/**
 * The longest path parameter the BI listener routes (longer: 414). Fastify's default (100
 * characters) refuses a batch of 6 DevEUIs; this one takes MAX_BATCH_UNCLAIM (17 characters
 * each with its comma) and about as many again, so a batch somewhat too large is told the
 * limit (400); node's 16 KiB request head bounds the rest.
 */
export const TTJS_MAX_PARAM_LENGTH = 16 * 1024;

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
 * The status codes are the ones The Things Stack's client turns into errors its user can read
 * (TTS pkg/deviceclaimingserver/enddevices/ttjsv2/ttjs.go): errors are `{message}`; 400 bad
 * input (it shows the message), 401 no registered peer ("invalid credentials"), 403 wrong
 * owner token or another owner's device (a claim's 403 says exactly WRONG_OWNER_TOKEN_MESSAGE,
 * which it shows as "already claimed or the owner token is invalid"), 404 not provisioned or
 * not claimed, 429 too many wrong tokens. A lock keeps other owners out, never its owner: TTS
 * claims every device locked and unclaims it when its user deletes the device.
 *
 * Owner-token guesses are counted per peer and DevEUI and per DevEUI, not over all the peer's
 * devices: every user of a TTS shares its one client certificate.
 */
export function registerTTJSClaimRoutes(app: FastifyInstance, deps: { readonly store: DeviceRegistry & PeerRegistry & TenantRegistry; readonly claims: ClaimService; readonly identify: PeerIdentifier }): void {
  /** The peer calling, and the principal it acts as: its tenant, with the claim scopes. */
  const caller = async (req: FastifyRequest): Promise<{ peer: Peer; p: Principal }> => {
    const peer = await deps.identify(req);
    const tenant = peer ? await deps.store.getTenant(peer.tenantID) : null;
    if (!peer || !tenant) throw new Refusal('unauthenticated', 'a client certificate of a registered peer is required');
    return { peer, p: { tenant, tenantID: tenant.id, scopes: ['claims', 'devices:read'], actor: `peer:${peer.name}`, source: req.ip } };
  };
  const principal = async (req: FastifyRequest): Promise<Principal> => (await caller(req)).p;
  const fail = (reply: FastifyReply, err: unknown): FastifyReply => {
    if (err instanceof Refusal) {
      if (err.retryAfterSeconds !== undefined) reply.header('retry-after', String(err.retryAfterSeconds));
      return reply.code(ttjsStatus(err)).send({ message: err.message });
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
      const { peer, p } = await caller(req);
      const devEUI = parseEUI64(req.params.devEUI, 'DevEUI');
      const body = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as ClaimBody;
      if (typeof body.ownerToken !== 'string' || body.ownerToken === '') throw new ParseError('ownerToken', 'required');
      const homeNetID = parseNetID(body.homeNetID, 'homeNetID');
      const homeNSID = body.homeNSID === undefined || body.homeNSID === '' ? undefined : parseEUI64(body.homeNSID, 'homeNSID');
      if (body.asID !== undefined && typeof body.asID !== 'string') throw new ParseError('asID', 'expected a string');
      if (body.lock !== undefined && typeof body.lock !== 'boolean') throw new ParseError('lock', 'expected true or false');
      const kek = parseKEK(body.kek);
      // Resolve the network first: a claim that cannot be bound is refused before it is made. The
      // calling network server itself when it has that NetID (and NSID): a tenant's other network
      // servers with the same NetID make it no less clear which one claims.
      const callerIsHome = peer.kind === 'ns' && peer.netID === homeNetID && (homeNSID === undefined || peer.nsID === homeNSID);
      const ns = await deps.claims.resolveNetworkServer(p.tenantID, callerIsHome ? { networkServer: peer.name } : { homeNetID, ...(homeNSID ? { homeNSID } : {}) });
      await deps.claims.claim(p, devEUI, body.ownerToken, { peer: peer.name }).catch((err: unknown) => {
        // Another owner's device, claimed with its right token: refused in the words TTS shows its user.
        throw err instanceof Refusal && err.code === 'already-claimed' ? new Refusal('invalid-owner-token', WRONG_OWNER_TOKEN_MESSAGE) : err;
      });
      const asID = typeof body.asID === 'string' && body.asID !== '' ? body.asID : null;
      const as = asID !== null ? await deps.claims.applicationServerByASID(p, asID, kek) : null;
      await deps.claims.bind(p, devEUI, { networkServer: ns.name, applicationServer: as ? as.name : null, locked: body.lock === true });
      if (body.regenerateOwnerToken === true) await deps.claims.regenerateToken(p, devEUI);
      // TTS reads nothing of a 2xx answer; the note is for whoever calls by hand.
      if (asID !== null && as === null) {
        return reply.code(200).send({
          applicationServer: null,
          message: `claimed without an application server: there is none with AS-ID ${asID} this tenant may use (register one with that AS-ID, or send a kek to create it); the AppSKey goes to the network server under its KEK`,
        });
      }
      return reply.code(200).send(as ? { applicationServer: as.name } : {});
    } catch (err) {
      return fail(reply, err);
    }
  });

  app.get<{ Params: { devEUI: string } }>('/api/v2/devices/:devEUI/claim', async (req, reply) => {
    try {
      const p = await principal(req);
      const d = await ownDevice(p, parseEUI64(req.params.devEUI, 'DevEUI'));
      const ns = d.nsPeer ? await deps.store.getPeer(d.nsPeer) : null;
      // TTS reads a missing homeNetID as NetID 000000: a device with no network server is not claimed for it.
      if (!ns || ns.kind !== 'ns') throw new Refusal('not-found', `device ${d.devEUI} is claimed but bound to no network server`);
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
      const list = req.params.euis
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
      if (list.length === 0 || list.length > MAX_BATCH_UNCLAIM) throw new ParseError('EUIs', `expected 1 to ${MAX_BATCH_UNCLAIM} comma-separated DevEUIs`);
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

/**
 * The status of a refusal in this API: 422s (a NetID or AS the tenant has not) are bad input,
 * 400; "not claimed" is 404, as TTS reads it (device_not_claimed); another owner's device is 403.
 */
function ttjsStatus(err: Refusal): number {
  switch (err.code) {
    case 'unknown-network-server':
    case 'unknown-application-server':
    case 'ambiguous-network-server':
      return 400;
    case 'not-claimed':
      return 404;
    case 'already-claimed':
      return 403;
    default:
      return err.status;
  }
}

function parseKEK(value: unknown): { label: string; key: AES128Key } | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object') throw new ParseError('kek', 'expected {label, key}');
  const { label, key } = value as { label?: unknown; key?: unknown };
  if (typeof label !== 'string' || label.trim() === '') throw new ParseError('kek.label', 'required');
  return { label, key: AES128Key.fromHex(key, 'kek.key') };
}
