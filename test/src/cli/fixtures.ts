import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import lora from 'lora-packet';
import { nonceBytes, randomKey, type DeviceKeys } from '../support/lora-device';

/** Helpers for the CLI contract suites: devices, import files, and a leak detector. */

export const JOIN_EUI = '70b3d57ed0000000';

/** A device with fresh random root keys (`nwkKey` for 1.1 only). */
export function newDevice(devEUI: string, macVersion: string): DeviceKeys {
  return { devEUI, joinEUI: JOIN_EUI, macVersion, appKey: randomKey(), ...(macVersion.startsWith('1.1') ? { nwkKey: randomKey() } : {}) };
}

export const CSV_HEADER = 'dev_eui,join_eui,mac_version,app_key,nwk_key';

/** A CSV line of the default header's columns. */
export function csvLine(d: DeviceKeys): string {
  return `${d.devEUI},${d.joinEUI},${d.macVersion},${d.appKey},${d.nwkKey ?? ''}`;
}

export async function writeCSV(file: string, lines: readonly string[]): Promise<string> {
  await fs.writeFile(file, `${lines.join('\n')}\n`);
  return file;
}

export async function writeJSON(file: string, value: unknown): Promise<string> {
  await fs.writeFile(file, JSON.stringify(value, null, 2));
  return file;
}

export function jsonEntry(d: DeviceKeys): Record<string, string> {
  return { dev_eui: d.devEUI, join_eui: d.joinEUI, mac_version: d.macVersion, app_key: d.appKey, ...(d.nwkKey ? { nwk_key: d.nwkKey } : {}) };
}

/**
 * The keys of which some part shows up in `output`: any 16 consecutive hex digits of a key
 * (half of it), in any case. A key is a secret even when cut short or upper-cased.
 */
export function leakedKeys(output: string, keys: Iterable<string>): string[] {
  const haystack = output.toLowerCase();
  const leaked: string[] = [];
  for (const key of keys) {
    const k = key.toLowerCase();
    for (let i = 0; i + 16 <= k.length; i++) {
      if (haystack.includes(k.slice(i, i + 16))) {
        leaked.push(key);
        break;
      }
    }
  }
  return leaked;
}

/** Every key of a device (root keys), for leak checks. */
export function rootKeys(d: DeviceKeys): string[] {
  return [d.appKey, ...(d.nwkKey ? [d.nwkKey] : [])];
}

/** The KEK of a credential bundle. */
export async function bundleKEK(dir: string): Promise<string> {
  return (JSON.parse(await fs.readFile(path.join(dir, 'kek.json'), 'utf8')) as { kek: string }).kek;
}

export interface SimulatedJoinLine {
  readonly devNonce: number;
  readonly resultCode: string;
  readonly joinNonce?: number;
  readonly netID?: string;
  readonly optNeg?: boolean;
}

/** What `joinery simulate join` (text output) said about the join. */
export function parseSimulateOutput(stdout: string): SimulatedJoinLine {
  const req = /JoinReq DevNonce (\d+) \(TransactionID \d+\) -> (\w+)/.exec(stdout);
  if (!req) throw new Error(`no JoinReq line in:\n${stdout}`);
  const ja = /join-accept: JoinNonce (\d+), NetID ([0-9a-f]{6}), .*\(OptNeg (on|off)\)/.exec(stdout);
  return {
    devNonce: Number(req[1]),
    resultCode: req[2]!,
    ...(ja ? { joinNonce: Number(ja[1]), netID: ja[2]!, optNeg: ja[3] === 'on' } : {}),
  };
}

/**
 * The session keys of a join, derived independently (lora-packet) from what the simulator
 * printed: to check they are NOT printed by default and ARE printed with --show-keys.
 */
export function sessionKeysOf(d: DeviceKeys, join: SimulatedJoinLine): Record<string, string> {
  if (join.joinNonce === undefined || join.netID === undefined) throw new Error('the join was not accepted');
  const joinNonce = Buffer.alloc(3);
  joinNonce.writeUIntBE(join.joinNonce, 0, 3);
  const hex = (b: Buffer): string => b.toString('hex');
  if (join.optNeg) {
    const k = lora.generateSessionKeys11(Buffer.from(d.appKey, 'hex'), Buffer.from(d.nwkKey!, 'hex'), Buffer.from(d.joinEUI, 'hex'), joinNonce, nonceBytes(join.devNonce));
    return { fNwkSIntKey: hex(k.FNwkSIntKey), sNwkSIntKey: hex(k.SNwkSIntKey), nwkSEncKey: hex(k.NwkSEncKey), appSKey: hex(k.AppSKey) };
  }
  const root = d.nwkKey ?? d.appKey;
  const k = lora.generateSessionKeys10(Buffer.from(root, 'hex'), Buffer.from(join.netID, 'hex'), joinNonce, nonceBytes(join.devNonce));
  return { nwkSKey: hex(k.NwkSKey), appSKey: hex(k.AppSKey) };
}
