/**
 * JSON text with tokens `JSON.stringify` cannot write: numbers JavaScript cannot hold (`1e400`,
 * 30-digit integers, `-0`), and duplicate keys. A hostile peer writes JSON by hand.
 */
export class RawJSON {
  constructor(readonly text: string) {}
}

/** An object written with its entries in this order, duplicates kept. */
export class DuplicateKeys {
  constructor(readonly entries: ReadonlyArray<readonly [string, unknown]>) {}
}

export function toJSONText(value: unknown): string {
  if (value instanceof RawJSON) return value.text;
  if (value instanceof DuplicateKeys) return `{${value.entries.map(([k, v]) => `${JSON.stringify(k)}:${toJSONText(v)}`).join(',')}}`;
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : toJSONText(v))).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const parts: string[] = [];
    for (const [k, v] of Object.entries(value)) if (v !== undefined) parts.push(`${JSON.stringify(k)}:${toJSONText(v)}`);
    return `{${parts.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
