import { firstCertificate } from '../peers/peer-certificates';
import { randomBytes } from 'node:crypto';
import { kekContext } from '../join/vault-contexts';
import type { KeyVault } from '../keys/key-vault';
import { AES128Key } from '../lorawan/aes128-key';
import type { EUI64, NetID } from '../lorawan/identifiers';
import type { ApplicationServerPeer, NetworkServerPeer, Peer } from '../peers/peer';
import { DEFAULT_PEER_SETTINGS } from '../peers/peer-settings';
import { auditEvent } from '../store/audit-event';
import type { Device, DeviceChange } from '../store/device';
import type { DeviceRegistry } from '../store/ports/device-registry';
import type { PeerRegistry } from '../store/ports/peer-registry';
import type { TenantRegistry } from '../store/ports/tenant-registry';
import { PeerExistsError } from '../store/store-errors';
import { isInstanceAdmin, maySee, notFound, requireScopeOf, type Principal } from '../tenants/principal';
import { Refusal } from '../tenants/refusal';
import type { TenantID } from '../tenants/tenant';
import type { ClaimGuesser, ClaimRateLimiter } from './claim-rate-limiter';
import { generateOwnerToken, hashOwnerToken, ownerTokenMatches, parseProfileID, qrPayload, type OwnerToken } from './owner-token';

/** Where a device's owner points it: a network server by name, or by NetID (and NSID). */
export interface NetworkServerRef {
  readonly networkServer?: string;
  readonly homeNetID?: NetID;
  readonly homeNSID?: EUI64;
}

export interface BindingRequest extends NetworkServerRef {
  /** An application server by name; null: none (the AppSKey as the network server's dialect needs it). */
  readonly applicationServer?: string | null;
  readonly locked?: boolean;
}

/** A new owner token, shown once (with what goes on the label). */
export interface NewOwnerToken {
  readonly device: Device;
  readonly ownerToken: OwnerToken;
  readonly qrPayload: string;
}

/** Why a claim was refused, for metrics (never the token). */
export type ClaimFailure = 'wrong-token' | 'rate-limited';

/**
 * The refusal of a wrong owner token, word for word what The Things Stack's claiming client
 * compares the message of a 403 with to tell the user "device is already claimed or the owner
 * token is invalid" (TTS pkg/deviceclaimingserver/enddevices/ttjsv2/ttjs.go, Claim); any other
 * text reaches its user as an internal error.
 */
export const WRONG_OWNER_TOKEN_MESSAGE = 'claim failed with given owner token';

/** Writes of one device are retried this often when a join or another change got there first. */
const MAX_ATTEMPTS = 16;

/**
 * Claiming and binding: an owner claims a pre-provisioned device with its owner token, binds it
 * to a network server (and application server), locks it, unclaims it, transfers it to another
 * owner or regenerates its token. Every change is one conditional write with its audit entry,
 * so a running server follows it at its next join. Owner-token guesses are rate-limited in the
 * store, shared by every instance (see ClaimRateLimiter); wrong ones are reported to
 * `onFailure` (metrics).
 */
export class ClaimService {
  constructor(
    private readonly store: DeviceRegistry & PeerRegistry & TenantRegistry,
    private readonly vault: KeyVault,
    private readonly limiter: ClaimRateLimiter,
    private readonly onFailure: (reason: ClaimFailure) => void = () => {},
  ) {}

  /**
   * `guesser`: whose guesses the rate limits count (default the principal's tenant; a peer that
   * speaks for many users is counted per device, see ClaimGuesser).
   */
  async claim(p: Principal, devEUI: EUI64, presented: string, guesser: ClaimGuesser = { tenantID: p.tenantID }): Promise<Device> {
    requireScopeOf(p, 'claims');
    // The buckets first: the device is read, and the token compared, only with their tokens in hand.
    const ticket = await this.limiter.take(devEUI, guesser);
    if ('retryAfterSeconds' in ticket) {
      this.onFailure('rate-limited');
      const wait = ticket.retryAfterSeconds;
      throw new Refusal('rate-limited', `too many owner-token guesses for this device or tenant: try again in ${wait} s`, wait);
    }
    let refunded = false;
    return this.#change(
      p,
      devEUI,
      async (d) => {
        if (d.ownership.ownerTokenHash === null || !ownerTokenMatches(d.ownership.ownerTokenHash, devEUI, presented)) {
          this.onFailure('wrong-token');
          throw new Refusal('invalid-owner-token', WRONG_OWNER_TOKEN_MESSAGE);
        }
        if (!refunded) {
          refunded = true;
          await this.limiter.refund(ticket);
        }
        if (d.ownership.owner === p.tenantID) return null;
        if (d.ownership.owner !== null) throw new Refusal('already-claimed', `device ${devEUI} is claimed by another owner`);
        return { change: { ...unchanged(d), owner: p.tenantID, claimedAt: new Date() }, action: 'device.claim', detail: { owner: p.tenantID } };
      },
      true,
    );
  }

  async bind(p: Principal, devEUI: EUI64, request: BindingRequest): Promise<Device> {
    requireScopeOf(p, 'claims');
    return this.#change(p, devEUI, async (d) => {
      const owner = this.#requireOwner(p, d);
      const ns = request.networkServer !== undefined || request.homeNetID !== undefined ? await this.resolveNetworkServer(owner, request) : null;
      const nsPeer = ns ? ns.name : d.nsPeer;
      let asPeer = d.asPeer;
      if (request.applicationServer !== undefined) asPeer = request.applicationServer === null ? null : (await this.#applicationServer(owner, request.applicationServer)).name;
      const locked = request.locked ?? d.ownership.locked;
      return {
        change: { ...unchanged(d), nsPeer, asPeer, locked },
        action: 'device.bind',
        detail: { networkServer: nsPeer, applicationServer: asPeer, locked, previousNetworkServer: d.nsPeer, previousApplicationServer: d.asPeer },
      };
    });
  }

  /**
   * Releases the device: no owner, no binding; its owner token stays what it was. A lock does
   * not stop its owner: it keeps the device from being taken over by anyone else (as The Things
   * Stack, which claims every device locked, means it), not from being let go.
   */
  async unclaim(p: Principal, devEUI: EUI64): Promise<Device> {
    requireScopeOf(p, 'claims');
    return this.#change(p, devEUI, async (d) => {
      this.#requireOwner(p, d);
      return { change: { ...unchanged(d), owner: null, nsPeer: null, asPeer: null, locked: false, claimedAt: null }, action: 'device.unclaim', detail: { previousOwner: d.ownership.owner } };
    });
  }

  /**
   * Gives the device to another owner: it is theirs at once, unbound (they bind it), with a new
   * owner token (the old one stops working), returned to hand over with the device.
   */
  async transfer(p: Principal, devEUI: EUI64, to: TenantID): Promise<NewOwnerToken> {
    requireScopeOf(p, 'claims');
    const target = await this.store.getTenant(to);
    if (!target) throw new Refusal('bad-request', `no tenant ${to}`);
    const token = generateOwnerToken();
    const device = await this.#change(p, devEUI, async (d) => {
      this.#requireOwner(p, d);
      this.#requireUnlocked(d);
      if (d.ownership.owner === to) throw new Refusal('conflict', `device ${devEUI} already belongs to ${to}`);
      return {
        change: { ...unchanged(d), owner: to, ownerTokenHash: hashOwnerToken(devEUI, token), nsPeer: null, asPeer: null, locked: false, claimedAt: new Date() },
        action: 'device.transfer',
        detail: { from: d.ownership.owner, to, ownerTokenRegenerated: true },
      };
    });
    return { device, ownerToken: token, qrPayload: qrPayload(device.joinEUI, device.devEUI, parseProfileID(device.ownership.profileID), token) };
  }

  /** A new owner token (the old one stops working): the owner's, or the maker's while unclaimed. */
  async regenerateToken(p: Principal, devEUI: EUI64): Promise<NewOwnerToken> {
    requireScopeOf(p, 'claims');
    const token = generateOwnerToken();
    const device = await this.#change(p, devEUI, async (d) => {
      if (!isInstanceAdmin(p) && !(d.ownership.owner === p.tenantID || (d.ownership.owner === null && d.ownership.manufacturer === p.tenantID))) {
        throw notFound(`device ${devEUI}`);
      }
      return { change: { ...unchanged(d), ownerTokenHash: hashOwnerToken(devEUI, token) }, action: 'device.owner-token.regenerate', detail: {} };
    });
    return { device, ownerToken: token, qrPayload: qrPayload(device.joinEUI, device.devEUI, parseProfileID(device.ownership.profileID), token) };
  }

  /**
   * The network server a tenant means: by name, or the one registered peer with that NetID (and
   * NSID). A tenant may use its own network servers and the operator's.
   */
  async resolveNetworkServer(tenantID: TenantID, ref: NetworkServerRef): Promise<NetworkServerPeer> {
    const usable = (await this.#usablePeers(tenantID)).filter((peer): peer is NetworkServerPeer => peer.kind === 'ns');
    if (ref.networkServer !== undefined) {
      const found = usable.find((peer) => peer.name === ref.networkServer);
      if (!found) throw new Refusal('unknown-network-server', `no network server named ${ref.networkServer} that this tenant may use`);
      return found;
    }
    if (ref.homeNetID === undefined) throw new Refusal('bad-request', 'name a network server, or give its NetID (homeNetID)');
    const matches = usable.filter((peer) => peer.netID === ref.homeNetID && (ref.homeNSID === undefined || peer.nsID === ref.homeNSID));
    const what = `NetID ${ref.homeNetID}${ref.homeNSID ? ` and NSID ${ref.homeNSID}` : ''}`;
    if (matches.length === 0) throw new Refusal('unknown-network-server', `no registered network server with ${what} that this tenant may use`);
    if (matches.length > 1) throw new Refusal('ambiguous-network-server', `${matches.length} network servers have ${what} (${matches.map((m) => m.name).join(', ')}): give the NSID, or name one`);
    return matches[0]!;
  }

  /**
   * The application server with this AS-ID among those the tenant may use; created (without a
   * client certificate: it receives AppSKeys wrapped under its KEK through the network server)
   * when absent and a KEK is given. An existing one keeps its KEK.
   */
  async applicationServerByASID(p: Principal, asID: string, kek: { readonly label: string; readonly key: AES128Key } | undefined): Promise<ApplicationServerPeer | null> {
    const existing = (await this.#usablePeers(p.tenantID)).find((peer): peer is ApplicationServerPeer => peer.kind === 'as' && peer.asID === asID);
    if (existing || !kek) return existing ?? null;
    const name = `as-${randomBytes(6).toString('hex')}`;
    const handle = await this.vault.importKey(kek.key);
    try {
      const peer: ApplicationServerPeer = {
        kind: 'as',
        name,
        asID,
        // Not a SHA-256 fingerprint (it has a ':'): no certificate ever identifies as this peer.
        certFingerprint: `none:${name}`,
        certificates: firstCertificate(`none:${name}`, new Date(), null),
        state: 'enabled',
        kekLabel: kek.label,
        sealedKEK: await this.vault.sealKey(handle, kekContext(name)),
        settings: DEFAULT_PEER_SETTINGS,
        tenantID: p.tenantID,
        createdAt: new Date(),
      };
      await this.store.insertPeer(peer, auditEvent(p, 'peer.add', null, { name, kind: 'as', asID, kekLabel: kek.label, via: 'claim' }));
      return peer;
    } catch (err) {
      if (err instanceof PeerExistsError) throw new Refusal('conflict', err.message);
      throw err;
    } finally {
      this.vault.release(handle);
    }
  }

  async #applicationServer(tenantID: TenantID, name: string): Promise<ApplicationServerPeer> {
    const found = (await this.#usablePeers(tenantID)).find((peer): peer is ApplicationServerPeer => peer.kind === 'as' && peer.name === name);
    if (!found) throw new Refusal('unknown-application-server', `no application server named ${name} that this tenant may use`);
    return found;
  }

  /**
   * What the principal may bind its devices to: its own network and application servers and
   * the operator's (what bind accepts, by name).
   */
  async bindingTargets(p: Principal): Promise<Peer[]> {
    requireScopeOf(p, 'claims');
    return this.#usablePeers(p.tenantID);
  }

  /** The tenant's own peers and the operator's (tenants with the admin role). */
  async #usablePeers(tenantID: TenantID): Promise<Peer[]> {
    const admins = new Set((await this.store.listTenants()).filter((t) => t.roles.includes('admin')).map((t) => t.id as string));
    return (await this.store.listPeers()).filter((peer) => peer.tenantID === tenantID || admins.has(peer.tenantID));
  }

  /** The owner of a claimed device that the principal may act on; else 404 (or 409 unclaimed). */
  #requireOwner(p: Principal, d: Device): TenantID {
    if (!maySee(p, d)) throw notFound(`device ${d.devEUI}`);
    if (d.ownership.owner === null) throw new Refusal('not-claimed', `device ${d.devEUI} is not claimed`);
    return d.ownership.owner;
  }

  /** A locked device is not handed to anyone else (transfer) until its owner unlocks it. */
  #requireUnlocked(d: Device): void {
    if (d.ownership.locked) throw new Refusal('locked', `device ${d.devEUI} is locked: its owner must unlock it first (bind with locked false)`);
  }

  /**
   * Reads the device, lets `decide` say what to write (null: nothing), and writes it if the
   * device did not change meanwhile, else reads again. A device the principal may not see is
   * 404, unless `claiming` (a claim is decided by the token alone).
   */
  async #change(p: Principal, devEUI: EUI64, decide: (d: Device) => Promise<{ change: DeviceChange; action: string; detail: Record<string, string | number | boolean | null> } | null>, claiming = false): Promise<Device> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const d = await this.store.getDevice(devEUI);
      if (!d || (!claiming && !maySee(p, d))) throw notFound(`device ${devEUI}`);
      const decision = await decide(d);
      if (decision === null) return d;
      if (await this.store.changeDevice(decision.change, auditEvent(p, decision.action, devEUI, decision.detail))) {
        return (await this.store.getDevice(devEUI)) ?? d;
      }
    }
    throw new Refusal('conflict', `device ${devEUI} changed too often meanwhile; try again`);
  }
}

/** A change that writes back what the device has (each caller overrides what it changes). */
function unchanged(d: Device): DeviceChange {
  return {
    devEUI: d.devEUI,
    expectedVersion: d.version,
    owner: d.ownership.owner,
    ownerTokenHash: d.ownership.ownerTokenHash,
    nsPeer: d.nsPeer,
    asPeer: d.asPeer,
    locked: d.ownership.locked,
    claimedAt: d.ownership.claimedAt,
  };
}
