/**
 * TS002 result codes as they appear on the wire (`Result.ResultCode`). BI 1.0 calls a
 * malformed message `MalformedRequest`, BI 1.1 `MalformedMessage`.
 */
export const RESULT_CODES = [
  'Success',
  'MICFailed',
  'JoinReqFailed',
  'NoRoamingAgreement',
  'DevRoamingDisallowed',
  'RoamingActDisallowed',
  'ActivationDisallowed',
  'UnknownDevEUI',
  'UnknownDevAddr',
  'UnknownSender',
  'UnknownReceiver',
  'Deferred',
  'XmitFailed',
  'InvalidFPort',
  'InvalidProtocolVersion',
  'StaleDeviceProfile',
  'MalformedRequest',
  'MalformedMessage',
  'FrameSizeError',
  'Other',
] as const;
export type ResultCode = (typeof RESULT_CODES)[number];

/** Misspellings real peers send (the spec's own `UnkownReceiver`, an old client's `RoamingActDisallowedA`). */
const INPUT_ALIASES: ReadonlyMap<string, ResultCode> = new Map<string, ResultCode>([
  ['UnkownReceiver', 'UnknownReceiver'],
  ['RoamingActDisallowedA', 'RoamingActDisallowed'],
]);

/** Reads a result code a peer sent (ErrorNotif, answers); unknown codes read as `Other`. */
export function parseResultCode(value: unknown): ResultCode {
  if (typeof value !== 'string') return 'Other';
  if ((RESULT_CODES as readonly string[]).includes(value)) return value as ResultCode;
  return INPUT_ALIASES.get(value) ?? 'Other';
}
