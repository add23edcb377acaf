/**
 * Backend Interfaces (TS002 1.0 / 1.1) wire shapes: the only place PascalCase names appear.
 * Binary fields are hex strings; optional fields absent are omitted, never `null`.
 */
import type { SessionKeyName } from '../join/session-key-plan';
import type { ProtocolVersion } from './protocol-version';
import type { ResultCode } from './result-code';

export interface WireResult {
  ResultCode: ResultCode;
  Description?: string;
}

export interface WireKeyEnvelope {
  /** Empty = the key in clear; else the label of the KEK that wrapped it (RFC 3394). */
  KEKLabel: string;
  AESKey: string;
}

/** The header every answer carries: Sender and Receiver swapped, TransactionID echoed. */
export interface WireAnswerHeader {
  ProtocolVersion: ProtocolVersion;
  SenderID: string;
  ReceiverID: string;
  TransactionID: number;
  MessageType: string;
  ReceiverToken?: string;
  ReceiverNSID?: string;
}

/** The JoinAns field of each session key (session-key-plan.ts names them). */
export const SESSION_KEY_FIELDS: Readonly<Record<SessionKeyName, 'NwkSKey' | 'FNwkSIntKey' | 'SNwkSIntKey' | 'NwkSEncKey' | 'AppSKey'>> = {
  nwkSKey: 'NwkSKey',
  fNwkSIntKey: 'FNwkSIntKey',
  sNwkSIntKey: 'SNwkSIntKey',
  nwkSEncKey: 'NwkSEncKey',
  appSKey: 'AppSKey',
};

export interface WireJoinAns extends WireAnswerHeader {
  Result: WireResult;
  PHYPayload?: string;
  Lifetime?: number;
  NwkSKey?: WireKeyEnvelope;
  FNwkSIntKey?: WireKeyEnvelope;
  SNwkSIntKey?: WireKeyEnvelope;
  NwkSEncKey?: WireKeyEnvelope;
  AppSKey?: WireKeyEnvelope;
  SessionKeyID?: string;
}

export interface WireAppSKeyAns extends WireAnswerHeader {
  Result: WireResult;
  DevEUI?: string;
  AppSKey?: WireKeyEnvelope;
  SessionKeyID?: string;
}

export type WireAnswer = WireAnswerHeader & { Result: WireResult } & Record<string, unknown>;
