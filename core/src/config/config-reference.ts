import { CONFIG_FLAG, SETTINGS, type SettingDefinition } from './config-schema';

/** The default as the file spells it, or the text saying what happens without one. */
function defaultOf(def: SettingDefinition): string {
  return def.default !== undefined ? String(def.default) : (def.defaultText ?? 'none');
}

function typeOf(def: SettingDefinition): string {
  const t = def.type;
  switch (t.kind) {
    case 'integer':
      return `integer ${t.min}..${t.max}`;
    case 'enum':
      return t.choices.join(' \\| ');
    case 'list':
      return 'list of strings';
    default:
      return 'string';
  }
}

function wrap(text: string, width: number, indent: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && indent.length + line.length + 1 + word.length > width) {
      lines.push(indent + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(indent + line);
  return lines;
}

/**
 * A fully commented `joinery.yaml` with every setting at its default (settings without a
 * default are commented out, with an example). `joinery config example` prints it.
 */
export function exampleConfig(): string {
  const out: string[] = [
    '# joinery.yaml: the configuration of a Joinery Join Server (joinery serve --config joinery.yaml,',
    '# or JOINERY_CONFIG=joinery.yaml). Every setting is shown at its default; a setting left out',
    '# keeps its default. Order of precedence: this file < JOINERY_* environment variables < flags.',
    '# Relative paths are relative to the working directory. Check a file: joinery config check FILE.',
    '# The backend settings (data_dir, store, vault, pkcs11) also apply to every other joinery',
    '# command given --config. Secrets: the PKCS#11 PIN is never in this file (pkcs11.pin_file or',
    '# JOINERY_PKCS11_PIN); the master key lives in <data_dir>/master.key or JOINERY_MASTER_KEY.',
  ];
  let section = '';
  for (const def of SETTINGS) {
    const parts = def.key.split('.');
    const inSection = parts.length > 1;
    if (inSection && parts[0] !== section) {
      section = parts[0]!;
      out.push('', `${section}:`);
    } else if (inSection) {
      out.push('');
    } else {
      section = '';
      out.push('');
    }
    const indent = inSection ? '  ' : '';
    const name = parts[parts.length - 1]!;
    out.push(...wrap(def.description, 100, `${indent}# `));
    out.push(
      `${indent}# ${def.flag} / ${def.env}${def.type.kind === 'enum' ? `; one of ${def.type.choices.join(', ')}` : def.type.kind === 'integer' ? `; ${def.type.min}..${def.type.max}` : ''}${def.default === undefined ? `; default: ${defaultOf(def)}` : ''}`,
    );
    if (def.default !== undefined) out.push(`${indent}${name}: ${yamlScalar(def.default)}`);
    else out.push(`${indent}# ${name}: ${def.example ?? ''}`);
  }
  return `${out.join('\n')}\n`;
}

function yamlScalar(v: string | number): string {
  if (typeof v === 'number') return String(v);
  return /^[A-Za-z0-9_./:-]+$/.test(v) && !/^(true|false|null|yes|no|on|off|~)$/i.test(v) ? v : JSON.stringify(v);
}

/** docs/configuration.md, generated: a test fails when the committed page differs. */
export function configurationReference(): string {
  const rows = SETTINGS.map((d) => `| \`${d.key}\` | \`${d.flag}\` | \`${d.env}\` | ${typeOf(d)} | ${d.default !== undefined ? `\`${d.default}\`` : defaultOf(d)} | ${d.description.replace(/\|/g, '\\|')} |`);
  return `<!-- Generated from core/src/config/config-schema.ts by \`joinery config reference\`: do not edit by hand. -->
# Configuration reference

Every setting of \`joinery serve\` can come from three places. In order of precedence, each
overriding the one before:

1. the **configuration file** (\`${CONFIG_FLAG.flag} FILE\` or \`${CONFIG_FLAG.env}=FILE\`; none by default);
2. the **environment**: each setting's \`JOINERY_*\` variable;
3. the **command line**: each setting's flag.

A setting given nowhere keeps its default. The backend settings (\`data_dir\`, \`store\`,
\`vault\`, \`pkcs11.*\`) are taken by every \`joinery\` command (\`ns\`, \`as\`, \`devices\`,
\`keys\`), which also accept \`--config\`, so one file serves the server and the CLI.

Every value is checked when the command starts, wherever it comes from; a bad one stops it
with exit code 2 and a message naming the file key, the variable or the flag and what was
expected, e.g. \`joinery: joinery.yaml: join.used_dev_nonces: expected an integer 1..65536, got 0\`.
Unknown keys in the file are errors too (a typo must not silently fall back to a default).
\`joinery config check [FILE]\` checks a file (and the \`JOINERY_*\` variables set) without
starting anything; \`joinery config example\` prints a fully commented file with every default.

## Why YAML

The file is YAML (\`joinery.yaml\`): it is what The Things Stack, Prometheus, Grafana
provisioning, Docker Compose and Kubernetes ConfigMaps use, so the people running a Join Server
next to them already read and template it; it has comments (JSON does not), and nested sections
without TOML's table headers. Only a safe subset is used: plain mappings, scalars and lists (no
custom tags), duplicate keys are refused.

## Secrets

No secret needs to be in the file: the master key is \`<data_dir>/master.key\` (mode 0600) or
\`JOINERY_MASTER_KEY\`; the PKCS#11 PIN is \`pkcs11.pin_file\` or \`JOINERY_PKCS11_PIN\`; a
PostgreSQL password can come from \`PGPASSWORD\` or \`~/.pgpass\`. A \`store\` or \`mqtt.url\` that
does carry a password is never printed.

## Settings

| Key | Flag | Environment | Type | Default | Description |
| --- | --- | --- | --- | --- | --- |
${rows.join('\n')}

Lists take a YAML list in the file (\`public_hosts: [js.example.com, 10.0.0.7]\`), and a
comma-separated value in the environment or a flag (flags can also be repeated).

## Example

The output of \`joinery config example\`:

\`\`\`yaml
${exampleConfig()}\`\`\`
`;
}
