import { randomBytes, randomInt } from 'node:crypto';
import * as path from 'node:path';
import type { ProtocolVersion } from '../backend-interfaces/protocol-version';
import { parseResultCode, type ResultCode } from '../backend-interfaces/result-code';
import { AES128Key } from '../lorawan/aes128-key';
import { aesEncryptBlock } from '../lorawan/aes';
import { toHex } from '../lorawan/hex';
import { parseDevAddr, type DevAddr, type EUI64, type NetID } from '../lorawan/identifiers';
import { DL_SETTINGS_OPT_NEG, decodeJoinAccept, decryptJoinAccept, verifyJoinAcceptMIC10, verifyJoinAcceptMIC11, type JoinAcceptFields } from '../lorawan/join-accept';
import { SESSION_KEY_FIELDS } from '../backend-interfaces/messages';
import { sessionKeyPlan, type KeyDerivation, type RootKeyName } from '../join/session-key-plan';
import { encodeJoinRequest } from '../lorawan/join-request';
import { aesKeyUnwrap } from '../lorawan/key-wrap';
import { deviceAcceptsJoinNonce } from '../lorawan/device-join-nonce-rule';
import { devNonceIsCounter, isLegacy, type MACVersion } from '../lorawan/mac-version';
import { devNonce as toDevNonce, MAX_DEV_NONCE, type DevNonce } from '../lorawan/nonces';
import { readCredentialBundle } from '../peers/credential-bundle';
import { postBIMessage } from './bi-client';
import { readSimulatorState, SIMULATOR_STATE_FILE, writeSimulatorState } from './simulator-state';

export interface SimulateJoinOptions {
  readonly bundleDir: string;
  /** The Join Server's BI URL; default the bundle's (peer.json). */
  readonly url?: string;
  readonly devEUI: EUI64;
  readonly joinEUI: EUI64;
  readonly macVersion: MACVersion;
  /** The device's AppKey (for a 1.0.x device, its only root key). */
  readonly appKey: AES128Key;
  /** 1.1 devices only. */
  readonly nwkKey?: AES128Key;
  /** Default: the next counter value (1.0.4, 1.1) or a random unused value (1.0.0-1.0.3). */
  readonly devNonce?: DevNonce;
  readonly devAddr?: DevAddr;
  readonly protocolVersion?: ProtocolVersion;
  /** RX1DROffset/RX2DR bits; OptNeg is set for 1.1 devices unless `optNeg` is false. */
  readonly dlSettings?: number;
  readonly optNeg?: boolean;
  readonly rxDelay?: number;
  readonly cfList?: Buffer;
  readonly timeoutMs?: number;
}

export type KeyCheck = 'match' | 'mismatch' | { readonly notChecked: string };

export interface SimulatedJoin {
  readonly resultCode: ResultCode;
  readonly description: string | undefined;
  readonly httpStatus: number;
  readonly devNonce: DevNonce;
  readonly transactionID: number;
  readonly latencyMs: number;
  /** Present on Success: what the device read from the join-accept. */
  readonly joinAccept?: JoinAcceptFields & { readonly optNeg: boolean };
  /** The session keys the device derived (for --show-keys; AES128Key objects print redacted). */
  readonly deviceKeys?: Readonly<Record<string, AES128Key>>;
  /** Each key of the JoinAns, unwrapped with the bundle's KEK, against the device's. */
  readonly keyChecks?: Readonly<Record<string, KeyCheck>>;
  readonly sessionKeyID?: string;
  /** Problems the device side found (bad MIC, JoinNonce not increasing...). */
  readonly problems: readonly string[];
}

const JOIN_REQUEST_TYPE = 0xff;

/**
 * A device and a network server in one: builds a join-request as the device, sends the JoinReq
 * the way a network server does (mTLS with the bundle's certificate), then decrypts and checks
 * the join-accept as the device, derives the device's session keys, and unwraps the JoinAns'
 * keys with the bundle's KEK to check both sides agree.
 */
export async function simulateJoin(options: SimulateJoinOptions): Promise<SimulatedJoin> {
  const bundle = await readCredentialBundle(options.bundleDir);
  if (bundle.peer.kind !== 'ns') throw new Error(`${options.bundleDir} is an application server's bundle: a join needs a network server's`);
  const netID = bundle.peer.netID as NetID;
  const url = options.url ?? bundle.peer.biURL;
  const legacy = isLegacy(options.macVersion);
  if (!legacy && !options.nwkKey) throw new Error('a LoRaWAN 1.1 device needs --nwk-key as well as --app-key');
  const rootForRequest = legacy ? options.appKey : options.nwkKey!;

  const stateFile = path.join(options.bundleDir, SIMULATOR_STATE_FILE);
  const state = await readSimulatorState(stateFile);
  const previous = state[options.devEUI] ?? {};
  const devNonce = options.devNonce ?? defaultDevNonce(options.macVersion, previous.lastDevNonce);

  const phy = encodeJoinRequest({ joinEUI: options.joinEUI, devEUI: options.devEUI, devNonce }, rootForRequest);
  const optNeg = !legacy && options.optNeg !== false;
  const dlSettings = ((options.dlSettings ?? 0) & ~DL_SETTINGS_OPT_NEG) | (optNeg ? DL_SETTINGS_OPT_NEG : 0);
  const transactionID = randomInt(1, 0xffffffff);
  const devAddr = options.devAddr ?? parseDevAddr(randomBytes(4).toString('hex'));
  const protocolVersion = options.protocolVersion ?? (bundle.peer.nsID ? '1.1' : '1.0');
  const request: Record<string, unknown> = {
    ProtocolVersion: protocolVersion,
    SenderID: netID,
    ReceiverID: options.joinEUI,
    TransactionID: transactionID,
    MessageType: 'JoinReq',
    MACVersion: options.macVersion === '1.1' ? '1.1.0' : options.macVersion,
    PHYPayload: toHex(phy),
    DevEUI: options.devEUI,
    DevAddr: devAddr,
    DLSettings: toHex(Buffer.of(dlSettings)),
    RxDelay: options.rxDelay ?? 1,
    ...(options.cfList ? { CFList: toHex(options.cfList) } : {}),
    ...(protocolVersion === '1.1' && bundle.peer.nsID ? { SenderNSID: bundle.peer.nsID } : {}),
  };

  const started = process.hrtime.bigint();
  const response = await postBIMessage(url, request, { caPem: bundle.caPem, clientCertPem: bundle.clientCertPem, clientKeyPem: bundle.clientKeyPem }, options.timeoutMs);
  const latencyMs = Number(process.hrtime.bigint() - started) / 1e6;
  const answer = (typeof response.body === 'object' && response.body !== null ? response.body : {}) as Record<string, unknown>;
  const result = (answer['Result'] ?? {}) as Record<string, unknown>;
  const resultCode = response.status === 200 ? parseResultCode(result['ResultCode']) : 'Other';
  const description = typeof result['Description'] === 'string' ? result['Description'] : response.status !== 200 ? `HTTP ${response.status}: ${JSON.stringify(response.body)}` : undefined;
  const problems: string[] = [];
  if (answer['TransactionID'] !== transactionID) problems.push(`answer TransactionID ${String(answer['TransactionID'])} is not the request's ${transactionID}`);

  const base = { resultCode, description, httpStatus: response.status, devNonce, transactionID, latencyMs, problems };
  // A device that sent a join-request has used that DevNonce, whatever the answer; a counter
  // device's counter never goes back (a replayed --dev-nonce does not rewind it).
  const lastDevNonce = devNonceIsCounter(options.macVersion) && previous.lastDevNonce !== undefined ? Math.max(previous.lastDevNonce, devNonce) : devNonce;
  state[options.devEUI] = { ...previous, lastDevNonce };
  if (resultCode !== 'Success' || typeof answer['PHYPayload'] !== 'string') {
    await writeSimulatorState(stateFile, state);
    return base;
  }

  // Device side, following the same session-key plan as the Join Server: decrypt with NwkKey
  // (1.1) or AppKey (1.0.x), check the MIC, derive the session keys.
  const roots: Record<RootKeyName, AES128Key> = { appKey: options.appKey, nwkKey: options.nwkKey ?? options.appKey };
  const derive = (k: KeyDerivation): AES128Key => AES128Key.fromBytes(aesEncryptBlock(roots[k.from], k.block), k.name);
  const plain = decryptJoinAccept(rootForRequest, Buffer.from(answer['PHYPayload'], 'hex'));
  const fields = decodeJoinAccept(plain);
  const acceptedOptNeg = !legacy && (fields.dlSettings & DL_SETTINGS_OPT_NEG) !== 0;
  const plan = sessionKeyPlan({
    rootKind: legacy ? 'legacy' : '1.1',
    optNeg: acceptedOptNeg,
    joinReqType: JOIN_REQUEST_TYPE,
    devEUI: options.devEUI,
    joinEUI: options.joinEUI,
    netID,
    joinNonce: fields.joinNonce,
    devNonce,
  });
  const mic = plan.acceptMIC;
  const micOK = mic.kind === '1.1' ? verifyJoinAcceptMIC11(derive(mic.key), mic.joinReqType, mic.joinEUI, mic.devNonce, plain) : verifyJoinAcceptMIC10(roots[mic.key], plain);
  if (!micOK) problems.push('join-accept MIC does not verify');
  // The device's stored JoinNonce is zero at power on; it keeps a join-accept only if its MIC
  // verifies and its JoinNonce passes the device's check, and only then stores the JoinNonce.
  const storedJoinNonce = previous.lastJoinNonce ?? 0;
  const verdict = deviceAcceptsJoinNonce(options.macVersion, storedJoinNonce, fields.joinNonce);
  if (!verdict.accepted) problems.push(verdict.reason);
  const kept = micOK && verdict.accepted;
  if (fields.netID !== netID) problems.push(`join-accept NetID ${fields.netID} is not the network server's ${netID}`);
  if (fields.devAddr !== devAddr) problems.push(`join-accept DevAddr ${fields.devAddr} is not the one the network server chose (${devAddr})`);

  const deviceKeys: Record<string, AES128Key> = Object.fromEntries(plan.sessionKeys.map((k) => [k.name, derive(k)]));
  // Each key of the JoinAns, unwrapped with the bundle's KEK, against the device's.
  const kek = Buffer.from(bundle.kek.kekHex, 'hex');
  const keyChecks: Record<string, KeyCheck> = Object.fromEntries(plan.sessionKeys.map((k) => [k.name, checkEnvelope(answer[SESSION_KEY_FIELDS[k.name]], deviceKeys[k.name]!, bundle.kek.label, kek)]));
  state[options.devEUI] = { lastDevNonce, lastJoinNonce: kept ? fields.joinNonce : storedJoinNonce };
  await writeSimulatorState(stateFile, state);
  return {
    ...base,
    joinAccept: { ...fields, optNeg: acceptedOptNeg },
    deviceKeys,
    keyChecks,
    ...(typeof answer['SessionKeyID'] === 'string' ? { sessionKeyID: answer['SessionKeyID'] } : {}),
  };
}

function checkEnvelope(envelope: unknown, expected: AES128Key, kekLabel: string, kek: Buffer): KeyCheck {
  if (typeof envelope !== 'object' || envelope === null) return { notChecked: 'absent from the JoinAns' };
  const e = envelope as { KEKLabel?: unknown; AESKey?: unknown };
  if (typeof e.AESKey !== 'string') return { notChecked: 'no AESKey' };
  let key: Buffer;
  if (e.KEKLabel === '' || e.KEKLabel === undefined) key = Buffer.from(e.AESKey, 'hex');
  else if (e.KEKLabel === kekLabel) {
    try {
      key = aesKeyUnwrap(kek, Buffer.from(e.AESKey, 'hex'));
    } catch {
      return 'mismatch';
    }
  } else return { notChecked: `wrapped under KEK "${String(e.KEKLabel)}", which this bundle does not hold` };
  return key.length === 16 && AES128Key.fromBytes(key).equals(expected) ? 'match' : 'mismatch';
}

function defaultDevNonce(macVersion: MACVersion, last: number | undefined): DevNonce {
  if (devNonceIsCounter(macVersion)) {
    const next = last === undefined ? 0 : last + 1;
    if (next > MAX_DEV_NONCE) throw new Error('this simulated device has used every DevNonce; give --dev-nonce');
    return toDevNonce(next);
  }
  return toDevNonce(randomInt(0, MAX_DEV_NONCE + 1));
}
