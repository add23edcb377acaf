import { createHash } from 'node:crypto';
import { AES128Key, parseEUI64, type EUI64 } from '@joinery/core';

/** The JoinEUI of every benchmark device. */
export const BENCH_JOIN_EUI: EUI64 = parseEUI64('70b3d57ed0000000');
/** NetID of the benchmark's network server (`ns add --net-id`). */
export const BENCH_NET_ID = '000013';

export type BenchMACVersion = '1.0.3' | '1.1';

/**
 * A benchmark device, derived from its index and the registry's seed alone, so the importer
 * and the load generator (another process) agree on a million devices without a file between
 * them: even indices are LoRaWAN 1.0.3, odd ones 1.1; the root keys are SHA-256 of seed and
 * index (AppKey the first half, NwkKey the second).
 */
export interface BenchDevice {
  readonly index: number;
  readonly devEUI: EUI64;
  readonly macVersion: BenchMACVersion;
  /** The key that MICs the join-request: AppKey (1.0.x) or NwkKey (1.1). */
  readonly micKey: AES128Key;
  readonly appKeyHex: string;
  readonly nwkKeyHex: string | null;
}

export function benchDevice(seed: string, index: number): BenchDevice {
  const digest = createHash('sha256').update(`${seed}:${index}`).digest();
  const macVersion: BenchMACVersion = index % 2 === 0 ? '1.0.3' : '1.1';
  const appKey = digest.subarray(0, 16);
  const nwkKey = digest.subarray(16, 32);
  return {
    index,
    devEUI: benchDevEUI(index),
    macVersion,
    micKey: AES128Key.fromBytes(macVersion === '1.1' ? nwkKey : appKey),
    appKeyHex: appKey.toString('hex'),
    nwkKeyHex: macVersion === '1.1' ? nwkKey.toString('hex') : null,
  };
}

export function benchDevEUI(index: number): EUI64 {
  return parseEUI64(`b0${index.toString(16).padStart(14, '0')}`);
}

/** Index of the `j`th device of one MAC version (or of any, `null`) in the registry. */
export function deviceIndex(j: number, macVersion: BenchMACVersion | null): number {
  return macVersion === null ? j : 2 * j + (macVersion === '1.1' ? 1 : 0);
}

/** How many devices of that MAC version a registry of `size` holds. */
export function devicesOfVersion(size: number, macVersion: BenchMACVersion | null): number {
  return macVersion === null ? size : macVersion === '1.0.3' ? Math.ceil(size / 2) : Math.floor(size / 2);
}
