import { Option, type Command } from 'commander';
import { declareSettings } from '../config/config-file';
import { CONFIG_FLAG, type SettingDefinition } from '../config/config-schema';

/** A commander option for a setting of the schema: its flag, description, JOINERY_* variable and default. */
export function settingOption(def: SettingDefinition): Option {
  const option = new Option(`${def.flag} ${def.placeholder}`, def.description).env(def.env);
  if (def.default !== undefined) option.default(String(def.default));
  if (def.preset !== undefined) option.preset(def.preset);
  if (def.type.kind === 'list') option.argParser(commaList);
  return option;
}

/** Adds the schema's settings and `--config` to a command (`hidden`: left out of its help). */
export function withSettings(cmd: Command, settings: readonly SettingDefinition[], options: { readonly hidden?: boolean } = {}): Command {
  for (const def of settings) cmd.addOption(options.hidden ? settingOption(def).hideHelp() : settingOption(def));
  declareSettings(cmd, settings);
  if (!cmd.options.some((o) => o.long === CONFIG_FLAG.flag)) cmd.addOption(new Option(`${CONFIG_FLAG.flag} ${CONFIG_FLAG.placeholder}`, CONFIG_FLAG.description).env(CONFIG_FLAG.env));
  return cmd;
}

/** Repeatable flag that also takes comma-separated values (and so does its JOINERY_* variable). */
export function commaList(value: string, previous: string[] | undefined): string[] {
  return [
    ...(previous ?? []),
    ...value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  ];
}
