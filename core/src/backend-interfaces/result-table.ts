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
  // A rejoin type 0/2 names the network the device's session belongs to; one forwarded by
  // another network server is not a request for an activation it may have. TS002 has no result
  // code for it; the sender is known and authenticated (not UnknownSender) and it is not a
  // binding refusal (ActivationDisallowed): the join procedure failed, with a Description.
  RejoinNetIDMismatch: 'JoinReqFailed',
  RejoinRateExceeded: 'JoinReqFailed',
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
