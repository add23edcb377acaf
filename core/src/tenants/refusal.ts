/** The stable codes of refused requests, and the HTTP status each one is answered with. */
export const REFUSALS = {
  'bad-request': 400,
  unauthenticated: 401,
  forbidden: 403,
  'invalid-owner-token': 403,
  'not-found': 404,
  'already-claimed': 409,
  'not-claimed': 409,
  locked: 409,
  conflict: 409,
  'ambiguous-network-server': 409,
  'unknown-network-server': 422,
  'unknown-application-server': 422,
  'rate-limited': 429,
} as const;
export type RefusalCode = keyof typeof REFUSALS;

/**
 * An expected refusal of a request (bad input, no right, wrong owner token...): a stable code,
 * its HTTP status, and a message for a person. Never a 500, never a secret in the message.
 */
export class Refusal extends Error {
  override readonly name = 'Refusal';
  readonly status: number;
  constructor(
    readonly code: RefusalCode,
    message: string,
    /** Seconds until a rate-limited caller may try again. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.status = REFUSALS[code];
  }
}
