/**
 * A value from outside (a BI message, a CSV row, a CLI flag) that is not what the field needs.
 * `field` names the field as the caller knows it, so the message can point at it.
 */
export class ParseError extends Error {
  override readonly name = 'ParseError';
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
  }
}
