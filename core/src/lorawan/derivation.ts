import { aesEncryptBlock } from './aes';
import { AES128Key } from './aes128-key';
import { eui64ToLE, netIDToLE, type EUI64, type NetID } from './identifiers';
import { devNonceToLE, joinNonceToLE, type DevNonce, type JoinNonce } from './nonces';

/**
 * LoRaWAN key derivation: each derived key is `aes128_encrypt(rootKey, block)` where the
 * 16-byte block is a one-byte prefix followed by fields in **little-endian** (on-air) order,
 * zero padded. Identifiers and nonces are kept big-endian in this code base, so every field
 * is reversed with its `*ToLE` helper on its way into a block.
 *
 * When a rejoin-request is answered, its RJcount0/RJcount1 goes where DevNonce is below.
 */

/**
 * LoRaWAN 1.0.x session-key block (also 1.1 with OptNeg off):
 *
 *   byte  0      prefix (0x01 NwkSKey, 0x02 AppSKey)
 *   bytes 1..3   JoinNonce (AppNonce), little-endian
 *   bytes 4..6   NetID, little-endian
 *   bytes 7..8   DevNonce, little-endian
 *   bytes 9..15  zero
 */
export function sessionKeyBlock10(prefix: 0x01 | 0x02, joinNonce: JoinNonce, netID: NetID, devNonce: DevNonce): Buffer {
  const block = Buffer.alloc(16);
  block[0] = prefix;
  joinNonceToLE(joinNonce).copy(block, 1);
  netIDToLE(netID).copy(block, 4);
  devNonceToLE(devNonce).copy(block, 7);
  return block;
}

/**
 * LoRaWAN 1.1 (OptNeg set) session-key block:
 *
 *   byte  0       prefix (0x01 FNwkSIntKey, 0x02 AppSKey, 0x03 SNwkSIntKey, 0x04 NwkSEncKey)
 *   bytes 1..3    JoinNonce, little-endian
 *   bytes 4..11   JoinEUI, little-endian
 *   bytes 12..13  DevNonce, little-endian
 *   bytes 14..15  zero
 */
export function sessionKeyBlock11(prefix: 0x01 | 0x02 | 0x03 | 0x04, joinNonce: JoinNonce, joinEUI: EUI64, devNonce: DevNonce): Buffer {
  const block = Buffer.alloc(16);
  block[0] = prefix;
  joinNonceToLE(joinNonce).copy(block, 1);
  eui64ToLE(joinEUI).copy(block, 4);
  devNonceToLE(devNonce).copy(block, 12);
  return block;
}

/**
 * LoRaWAN 1.1 Join Server key block:
 *
 *   byte  0      prefix (0x05 JSEncKey, 0x06 JSIntKey)
 *   bytes 1..8   DevEUI, little-endian
 *   bytes 9..15  zero
 */
export function jsKeyBlock(prefix: 0x05 | 0x06, devEUI: EUI64): Buffer {
  const block = Buffer.alloc(16);
  block[0] = prefix;
  eui64ToLE(devEUI).copy(block, 1);
  return block;
}

function derive(root: AES128Key, block: Buffer, name: string): AES128Key {
  return AES128Key.fromBytes(aesEncryptBlock(root, block), name);
}

/**
 * LoRaWAN 1.0.x session keys: NwkSKey = aes(root, 0x01|...), AppSKey = aes(root, 0x02|...).
 *
 * `appKey` is the root key. Two callers pass something else on purpose:
 * - a 1.0.x device's single root key, whatever a network server calls it (AppKey or NwkKey);
 * - a 1.1 device answered with OptNeg **off** (a 1.1 device on a 1.0 network): the spec then
 *   uses these 1.0 derivations (NetID, not JoinEUI) with **NwkKey as the root of both keys**;
 *   the 1.1 AppKey is not used. The engine calls this function with the NwkKey, and the device
 *   uses NwkSKey as its FNwkSIntKey, SNwkSIntKey and NwkSEncKey.
 */
export function deriveSessionKeys10(appKey: AES128Key, joinNonce: JoinNonce, netID: NetID, devNonce: DevNonce): { nwkSKey: AES128Key; appSKey: AES128Key } {
  return {
    nwkSKey: derive(appKey, sessionKeyBlock10(0x01, joinNonce, netID, devNonce), 'NwkSKey'),
    appSKey: derive(appKey, sessionKeyBlock10(0x02, joinNonce, netID, devNonce), 'AppSKey'),
  };
}

/**
 * LoRaWAN 1.1 session keys, OptNeg set: the three network keys from NwkKey, AppSKey from AppKey.
 * (OptNeg off: see deriveSessionKeys10.)
 */
export function deriveSessionKeys11(
  nwkKey: AES128Key,
  appKey: AES128Key,
  joinNonce: JoinNonce,
  joinEUI: EUI64,
  devNonce: DevNonce,
): { fNwkSIntKey: AES128Key; sNwkSIntKey: AES128Key; nwkSEncKey: AES128Key; appSKey: AES128Key } {
  return {
    fNwkSIntKey: derive(nwkKey, sessionKeyBlock11(0x01, joinNonce, joinEUI, devNonce), 'FNwkSIntKey'),
    appSKey: derive(appKey, sessionKeyBlock11(0x02, joinNonce, joinEUI, devNonce), 'AppSKey'),
    sNwkSIntKey: derive(nwkKey, sessionKeyBlock11(0x03, joinNonce, joinEUI, devNonce), 'SNwkSIntKey'),
    nwkSEncKey: derive(nwkKey, sessionKeyBlock11(0x04, joinNonce, joinEUI, devNonce), 'NwkSEncKey'),
  };
}

/** LoRaWAN 1.1 JSIntKey = aes(NwkKey, 0x06 | DevEUI | pad16): MICs rejoin type 1 and 1.1 join-accepts. */
export function deriveJSIntKey(nwkKey: AES128Key, devEUI: EUI64): AES128Key {
  return derive(nwkKey, jsKeyBlock(0x06, devEUI), 'JSIntKey');
}

/** LoRaWAN 1.1 JSEncKey = aes(NwkKey, 0x05 | DevEUI | pad16): encrypts join-accepts answering a rejoin. */
export function deriveJSEncKey(nwkKey: AES128Key, devEUI: EUI64): AES128Key {
  return derive(nwkKey, jsKeyBlock(0x05, devEUI), 'JSEncKey');
}
