import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parseDocument } from 'yaml';
import { ParseError } from '../lorawan/parse-error';
import { attributeName, checkSetting, CONFIG_FLAG, SETTINGS, toOptionValue, type SettingDefinition } from './config-schema';

/** A bad configuration file or setting: exit code 2, every problem named by its key. */
export class ConfigError extends ParseError {
  constructor(
    readonly source: string,
    readonly problems: readonly string[],
  ) {
    super(source, problems.length === 1 ? problems[0]! : `\n  ${problems.join('\n  ')}`);
  }
}

/** The file's settings, flattened to the schema's dotted keys (absent and null values left out). */
export type ConfigValues = ReadonlyMap<string, unknown>;

/** Reads and checks a configuration file: unknown keys and bad values are all reported at once. */
export function loadConfigFile(file: string): ConfigValues {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(`config file ${file}`, [code === 'ENOENT' ? 'not found' : `cannot be read (${code ?? (err as Error).message})`]);
  }
  return parseConfigText(text, file);
}

export function parseConfigText(text: string, file: string): ConfigValues {
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => `${e.linePos?.[0] ? `line ${e.linePos[0].line}: ` : ''}${e.message.split('\n')[0]} (not valid YAML)`),
    );
  }
  const root: unknown = doc.toJS();
  const values = new Map<string, unknown>();
  if (root === null || root === undefined) return values;
  const problems: string[] = [];
  if (typeof root !== 'object' || Array.isArray(root)) throw new ConfigError(file, ['expected a mapping of settings (key: value) at the top level']);
  const known = new Map(SETTINGS.map((s) => [s.key, s]));
  const sections = new Set(SETTINGS.filter((s) => s.key.includes('.')).map((s) => s.key.split('.')[0]!));
  const walk = (obj: Record<string, unknown>, prefix: string): void => {
    for (const [k, v] of Object.entries(obj)) {
      const key = prefix ? `${prefix}.${k}` : k;
      if (!prefix && sections.has(k) && (v === null || (typeof v === 'object' && !Array.isArray(v)))) {
        if (v === null) continue; // a section with every setting commented out
        walk(v as Record<string, unknown>, key);
        continue;
      }
      const def = known.get(key);
      if (!def) {
        problems.push(sections.has(key) ? `${key}: expected a section (a mapping of settings)` : `${key}: unknown setting${suggest(key)}`);
        continue;
      }
      if (v === null || v === undefined) continue;
      const bad = checkSetting(def, v);
      if (bad) problems.push(`${key}: ${bad.problem}, got ${bad.got}`);
      else values.set(key, v);
    }
  };
  walk(root as Record<string, unknown>, '');
  if (problems.length > 0) throw new ConfigError(file, problems);
  return values;
}

function suggest(key: string): string {
  const close = SETTINGS.map((s) => s.key).filter((k) => distance(k, key) <= 2 || k.endsWith(`.${key}`) || key.endsWith(`.${k.split('.').pop()!}`));
  if (key === 'pkcs11.pin') return ' (the PIN is never in the file: pkcs11.pin_file or JOINERY_PKCS11_PIN)';
  return close.length > 0 ? ` (did you mean ${close.join(' or ')}?)` : ' (joinery config example lists every setting)';
}

function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The settings each command was given (`withSettings`). A command's own option may share a
 * setting's flag (`ns add --mqtt-url` is the network server's broker, `mqtt.url` Joinery's):
 * only the settings a command declares take the file's values, so one file serves every command.
 */
const declaredSettings = new WeakMap<Command, readonly SettingDefinition[]>();

export function declareSettings(cmd: Command, settings: readonly SettingDefinition[]): void {
  declaredSettings.set(cmd, [...(declaredSettings.get(cmd) ?? []), ...settings]);
}

/** The settings a command declared. */
export function settingsOf(cmd: Command): readonly SettingDefinition[] {
  return declaredSettings.get(cmd) ?? [];
}

/**
 * Merges a command's settings in the order file < environment < flag. Commander has already
 * given flags over environment over defaults; a value still at its default (or unset) takes
 * the file's. Then every value is checked, and a bad one is named as its source spells it (the
 * file key, the environment variable or the flag). Runs before the command's action.
 */
export function applyConfiguration(cmd: Command, env: NodeJS.ProcessEnv = process.env): void {
  if (!cmd.options.some((o) => o.long === CONFIG_FLAG.flag)) return;
  const file = cmd.getOptionValue('config') as string | undefined;
  const values = file ? loadConfigFile(file) : new Map<string, unknown>();
  const problems: string[] = [];
  for (const def of settingsOf(cmd)) {
    const attr = attributeName(def.flag);
    const source = cmd.getOptionValueSource(attr);
    if ((source === undefined || source === 'default') && values.has(def.key)) {
      cmd.setOptionValueWithSource(attr, toOptionValue(def, values.get(def.key)), 'config');
      continue;
    }
    if (source === 'env' || source === 'cli') {
      const raw = source === 'env' ? env[def.env] : cmd.getOptionValue(attr);
      const bad = raw === undefined ? undefined : checkSetting(def, raw);
      if (bad) problems.push(`${source === 'env' ? def.env : def.flag}: ${bad.problem}, got ${bad.got}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems.length === 1 ? problems[0]!.split(':')[0]! : 'settings', problems.length === 1 ? [problems[0]!.slice(problems[0]!.indexOf(':') + 2)] : problems);
}
