import { readFileSync } from 'node:fs';
import * as path from 'node:path';

/**
 * Loads the known-answer vectors (the repository's test/vectors/lorawan-kat.json; `JOINERY_VECTORS` overrides the path). Test support only: no jest here, and the
 * values stay in the file, never copied into tests.
 */

export interface KATVector {
  readonly id: string;
  readonly kind: string;
  readonly inputs: Readonly<Record<string, string>>;
  readonly expected: Readonly<Record<string, string>>;
  readonly notes?: string;
  readonly source?: string;
  readonly mustFail?: boolean;
}

/** This file is core/src/lorawan/; the repository root is three levels up. */
export const DEFAULT_VECTORS_PATH = path.resolve(__dirname, '../../../test/vectors/lorawan-kat.json');

export function katVectorsPath(): string {
  const override = process.env['JOINERY_VECTORS'];
  return override !== undefined && override !== '' ? path.resolve(override) : DEFAULT_VECTORS_PATH;
}

export function loadKATVectors(file = katVectorsPath()): KATVector[] {
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (!Array.isArray(parsed)) throw new Error(`${file}: expected a JSON array of vectors`);
  return parsed.map((v: unknown, i) => {
    if (typeof v !== 'object' || v === null) throw new Error(`${file}: vector ${i} is not an object`);
    const r = v as Record<string, unknown>;
    if (typeof r['id'] !== 'string' || typeof r['kind'] !== 'string') throw new Error(`${file}: vector ${i} has no id or kind`);
    return {
      id: r['id'],
      kind: r['kind'],
      inputs: stringRecord(r['inputs'], `${file}: ${r['id']}.inputs`),
      expected: stringRecord(r['expected'], `${file}: ${r['id']}.expected`),
      ...(typeof r['notes'] === 'string' ? { notes: r['notes'] } : {}),
      ...(typeof r['source'] === 'string' ? { source: r['source'] } : {}),
      ...(r['mustFail'] === true ? { mustFail: true } : {}),
    };
  });
}

function stringRecord(value: unknown, where: string): Record<string, string> {
  if (typeof value !== 'object' || value === null) throw new Error(`${where}: expected an object`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw new Error(`${where}.${k}: expected a string`);
    out[k] = v;
  }
  return out;
}

/** True when a vector is a negative case: `"mustFail": true`, or a note saying it must fail. */
export function isNegative(v: KATVector): boolean {
  return v.mustFail === true || /must\s*fail/i.test(v.notes ?? '');
}

/**
 * Reads a vector's fields by name, remembering which were read, so a test can check that it
 * used every input and every expected value (a field nobody reads is a field nobody checks).
 */
export class VectorReader {
  readonly #used = new Set<string>();
  constructor(readonly vector: KATVector) {}

  input(name: string): string {
    return this.#take('inputs', this.vector.inputs, name);
  }
  expected(name: string): string {
    return this.#take('expected', this.vector.expected, name);
  }
  optionalInput(name: string): string | undefined {
    return this.vector.inputs[name] === undefined ? undefined : this.input(name);
  }
  optionalExpected(name: string): string | undefined {
    return this.vector.expected[name] === undefined ? undefined : this.expected(name);
  }
  inputBytes(name: string): Buffer {
    return Buffer.from(this.input(name), 'hex');
  }
  expectedBytes(name: string): Buffer {
    return Buffer.from(this.expected(name), 'hex');
  }
  /** A big-endian hex field as an unsigned integer (nonces, counters, single bytes). */
  inputNumber(name: string): number {
    return Number.parseInt(this.input(name), 16);
  }

  /** The fields present in the vector but never read. */
  unused(): string[] {
    return [
      ...Object.keys(this.vector.inputs)
        .filter((k) => !this.#used.has(`inputs.${k}`))
        .map((k) => `inputs.${k}`),
      ...Object.keys(this.vector.expected)
        .filter((k) => !this.#used.has(`expected.${k}`))
        .map((k) => `expected.${k}`),
    ];
  }

  #take(section: string, record: Readonly<Record<string, string>>, name: string): string {
    const value = record[name];
    if (value === undefined) throw new Error(`vector ${this.vector.id}: no ${section}.${name}`);
    this.#used.add(`${section}.${name}`);
    return value;
  }
}
