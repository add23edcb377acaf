import type { FailureCode } from '../join/failure';
import type { ProtocolVersion } from './protocol-version';
import type { ResultCode } from './result-code';

/** The one table from internal failure codes to BI result codes. */
const TABLE: Readonly<Record<FailureCode, ResultCode | { readonly '1.0': ResultCode; readonly '1.1': ResultCode }>> = {
  Malformed: { '1.0': 'MalformedRequest', '1.1': 'MalformedMessage' },
  FrameSize: 'FrameSizeError',
  InvalidProtocolVersion: 'InvalidProtocolVersion',
  UnknownSender: 'UnknownSender',
  UnknownReceiver: 'UnknownReceiver',
  UnknownDevEUI: 'UnknownDevEUI',
  NotBound: 'ActivationDisallowed',
  MICFailed: 'MICFailed',
  DevNonceReplayed: 'JoinReqFailed',
  RJCountReplayed: 'JoinReqFailed',
  RejoinNotSupported: 'JoinReqFailed',
  JoinNonceExhausted: 'JoinReqFailed',
  UnknownSession: 'UnknownDevEUI',
  SessionNotYours: 'ActivationDisallowed',
  Unsupported: { '1.0': 'MalformedRequest', '1.1': 'MalformedMessage' },
  Contention: 'Other',
  Internal: 'Other',
};

export function resultCodeFor(code: FailureCode, version: ProtocolVersion): ResultCode {
  const entry = TABLE[code];
  return typeof entry === 'string' ? entry : entry[version];
}
