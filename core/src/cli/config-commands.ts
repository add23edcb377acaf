import type { Command } from 'commander';
import { ConfigError, loadConfigFile } from '../config/config-file';
import { checkSetting, CONFIG_FLAG, SETTINGS } from '../config/config-schema';
import { configurationReference, exampleConfig } from '../config/config-reference';

/** `joinery config example | check [FILE] | reference`. */
export function addConfigCommands(program: Command): void {
  const config = program.command('config').description('the configuration file (joinery.yaml): a commented example, checks, the reference');
  config
    .command('example')
    .description('print a fully commented joinery.yaml with every setting at its default')
    .action(() => {
      process.stdout.write(exampleConfig());
    });
  config
    .command('check [file]')
    .description(`check a configuration file (default: $${CONFIG_FLAG.env}, else ./joinery.yaml) and the JOINERY_* variables set; print the resulting settings`)
    .action((file: string | undefined) => {
      const path = file ?? process.env[CONFIG_FLAG.env] ?? 'joinery.yaml';
      const problems: string[] = [];
      let values: ReadonlyMap<string, unknown> = new Map();
      try {
        values = loadConfigFile(path);
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        problems.push(...err.problems.map((p) => `${err.source}: ${p}`));
      }
      const lines: string[] = [];
      for (const def of SETTINGS) {
        const fromEnv = process.env[def.env];
        if (fromEnv !== undefined) {
          const bad = checkSetting(def, fromEnv);
          if (bad) problems.push(`${def.env}: ${bad.problem}, got ${bad.got}`);
        }
        const [value, source] = fromEnv !== undefined ? [fromEnv, def.env] : values.has(def.key) ? [values.get(def.key), path] : [def.default ?? def.defaultText, 'default'];
        lines.push(`${def.key} = ${hidePassword(typeof value === 'string' ? value : value === undefined ? '(none)' : JSON.stringify(value))}  (${source})`);
      }
      if (problems.length > 0) throw new ConfigError(`configuration ${path}`, problems);
      process.stdout.write(`${lines.join('\n')}\n`);
      process.stderr.write(`joinery: ${path} is valid (${values.size} settings set in the file)\n`);
    });
  config
    .command('reference')
    .description('print the configuration reference (Markdown; docs/configuration.md)')
    .action(() => {
      process.stdout.write(configurationReference());
    });
}

/** A URL's password is never printed. */
export function hidePassword(value: string): string {
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)[^@/\s]*@/i, '$1***@');
}
