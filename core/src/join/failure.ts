/**
 * Why the Join Server refuses a request: internal, stable codes. Every one maps to exactly one
 * BI result code per protocol version (`backend-interfaces/result-table.ts`).
 */
export type FailureCode =
  | 'Malformed'
  | 'FrameSize'
  | 'InvalidProtocolVersion'
  | 'UnknownSender'
  | 'UnknownReceiver'
  | 'UnknownDevEUI'
  | 'NotBound'
  | 'MICFailed'
  | 'DevNonceReplayed'
  | 'RJCountReplayed'
  | 'RejoinNetIDMismatch'
  | 'RejoinRateExceeded'
  | 'RejoinNotSupported'
  | 'JoinNonceExhausted'
  | 'UnknownSession'
  | 'SessionNotYours'
  | 'Unsupported'
  | 'Contention'
  | 'Internal';

/** An expected protocol outcome that is not a success: a value, not an exception. */
export interface Failure {
  readonly ok: false;
  readonly code: FailureCode;
  /** Human-readable, for the BI `Result.Description` and the log. Never contains a key. */
  readonly description: string;
}

export function failure(code: FailureCode, description: string): Failure {
  return { ok: false, code, description };
}
