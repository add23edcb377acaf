import { jsKeyBlock, sessionKeyBlock10, sessionKeyBlock11 } from '../lorawan/derivation';
import type { EUI64, NetID } from '../lorawan/identifiers';
import { DL_SETTINGS_OPT_NEG } from '../lorawan/join-accept';
import { isLegacy, type MACVersion } from '../lorawan/mac-version';
import type { DevNonce, JoinNonce } from '../lorawan/nonces';
import type { VendorDialect } from '../peers/vendor-dialect';

/**
 * The one description of a join-accept's keys, for both sides: the join engine follows it with
 * vault handles, the join simulator (the device) with clear keys. Which session keys a join
 * makes (1.0.x and 1.1 without OptNeg: NwkSKey and AppSKey; 1.1 with OptNeg: three network keys
 * and AppSKey), from which root key and block, which keys MIC and encrypt the join-accept, and
 * who each session key is wrapped for.
 */

/** A device's root keys by name. A 1.0.x device's only root key is kept as `appKey`. */
export type RootKeyName = 'appKey' | 'nwkKey';
export type NetworkSessionKeyName = 'nwkSKey' | 'fNwkSIntKey' | 'sNwkSIntKey' | 'nwkSEncKey';
export type SessionKeyName = NetworkSessionKeyName | 'appSKey';

/** A key derived as aes128_encrypt(root key, block). */
export interface KeyDerivation<Name extends string = string> {
  readonly name: Name;
  readonly from: RootKeyName;
  readonly block: Buffer;
}

export interface SessionKeyPlan {
  /** `legacy`: the LoRaWAN 1.0 formulas (NetID in the blocks) from one root key; `1.1`: OptNeg (JoinEUI in the blocks). */
  readonly kind: 'legacy' | '1.1';
  /** The session keys: the network keys (for the network server, wrapped under its KEK), then AppSKey. */
  readonly sessionKeys: readonly KeyDerivation<SessionKeyName>[];
  /** The join-accept MIC: over the plain join-accept with a root key (1.0), or over JoinReqType | JoinEUI | DevNonce | plain with JSIntKey (1.1). */
  readonly acceptMIC:
    | { readonly kind: 'legacy'; readonly key: RootKeyName }
    | { readonly kind: '1.1'; readonly key: KeyDerivation<'jsIntKey'>; readonly joinReqType: 0xff | 0 | 1 | 2; readonly joinEUI: EUI64; readonly devNonce: DevNonce };
  /** The join-accept encryption key: a root key, or JSEncKey answering a rejoin-request. */
  readonly acceptEncryption: { readonly root: RootKeyName } | { readonly derived: KeyDerivation<'jsEncKey'> };
}

export interface SessionKeyInputs {
  /** The device's root keys: one (`legacy`, a 1.0.x device) or two (`1.1`). */
  readonly rootKind: 'legacy' | '1.1';
  readonly optNeg: boolean;
  /** 0xFF answering a join-request, else the rejoin type. */
  readonly joinReqType: 0xff | 0 | 1 | 2;
  readonly devEUI: EUI64;
  readonly joinEUI: EUI64;
  readonly netID: NetID;
  readonly joinNonce: JoinNonce;
  /** DevNonce, or the rejoin's RJcount0/RJcount1 in its place. */
  readonly devNonce: DevNonce;
}

/** LoRaWAN 1.1 JSIntKey: MICs a rejoin-request type 1 and a join-accept with OptNeg. */
export function jsIntKey(devEUI: EUI64): KeyDerivation<'jsIntKey'> {
  return { name: 'jsIntKey', from: 'nwkKey', block: jsKeyBlock(0x06, devEUI) };
}

/**
 * OptNeg is answered only to a 1.1 device, and only when the network server asked for it (a
 * rejoin is 1.1 by definition). A 1.0.x device gets the bit cleared whatever the network server set.
 */
export function answersWithOptNeg(rootKind: 'legacy' | '1.1', macVersion: MACVersion, rejoin: boolean, dlSettings: number): boolean {
  return rootKind === '1.1' && !isLegacy(macVersion) && (rejoin || (dlSettings & DL_SETTINGS_OPT_NEG) !== 0);
}

export function sessionKeyPlan(k: SessionKeyInputs): SessionKeyPlan {
  if (k.optNeg && k.rootKind === '1.1') {
    const block = (prefix: 0x01 | 0x02 | 0x03 | 0x04) => sessionKeyBlock11(prefix, k.joinNonce, k.joinEUI, k.devNonce);
    return {
      kind: '1.1',
      // Three network keys from NwkKey, AppSKey from AppKey.
      sessionKeys: [
        { name: 'fNwkSIntKey', from: 'nwkKey', block: block(0x01) },
        { name: 'sNwkSIntKey', from: 'nwkKey', block: block(0x03) },
        { name: 'nwkSEncKey', from: 'nwkKey', block: block(0x04) },
        { name: 'appSKey', from: 'appKey', block: block(0x02) },
      ],
      acceptMIC: { kind: '1.1', key: jsIntKey(k.devEUI), joinReqType: k.joinReqType, joinEUI: k.joinEUI, devNonce: k.devNonce },
      // Answering a rejoin, the join-accept is encrypted with JSEncKey; a join, with NwkKey.
      acceptEncryption: k.joinReqType === 0xff ? { root: 'nwkKey' } : { derived: { name: 'jsEncKey', from: 'nwkKey', block: jsKeyBlock(0x05, k.devEUI) } },
    };
  }
  // 1.0.x: the device's one root key. A 1.1 device without OptNeg: NwkKey is the root of everything.
  const root: RootKeyName = k.rootKind === '1.1' ? 'nwkKey' : 'appKey';
  return {
    kind: 'legacy',
    sessionKeys: [
      { name: 'nwkSKey', from: root, block: sessionKeyBlock10(0x01, k.joinNonce, k.netID, k.devNonce) },
      { name: 'appSKey', from: root, block: sessionKeyBlock10(0x02, k.joinNonce, k.netID, k.devNonce) },
    ],
    acceptMIC: { kind: 'legacy', key: root },
    acceptEncryption: { root },
  };
}

/**
 * Who the AppSKey is wrapped for: the device's own application server (with a SessionKeyID, so
 * it can fetch it again: AppSKeyReq); without one, the network server as its dialect takes it
 * (under its KEK, or in clear), with a SessionKeyID where the dialect wants one.
 */
export function appSKeyDelivery(hasApplicationServer: boolean, dialect: VendorDialect): { readonly to: 'application-server' | 'network-server' | 'clear'; readonly sessionKeyID: boolean } {
  if (hasApplicationServer) return { to: 'application-server', sessionKeyID: true };
  return { to: dialect.appSKeyWithoutAS === 'clear' ? 'clear' : 'network-server', sessionKeyID: dialect.sessionKeyID === 'always' };
}
