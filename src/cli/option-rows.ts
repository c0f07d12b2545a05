import { Option, type Command } from 'commander';
import { loadOptions, type OptionSpec } from '../api/config.js';

/**
 * An options table (api's, worker's) as a command's flags, each with its default (none shown for
 * secrets and for `unshown` keys) and its environment variable, plus `--config <path>`; the help
 * ends with the precedence and what a signal does (`stopping`).
 */
export function addOptionRows<Config extends object>(command: Command, table: readonly OptionSpec<Extract<keyof Config, string>>[], defaults: Config, unshown: readonly string[], stopping: string): Command {
  command.option('--config <path>', 'JSON config file (keys: ' + table.map((o) => o.file).join(', ') + '); env RUNNER_CODES_CONFIG');
  for (const spec of table) {
    const shown = spec.secret || unshown.includes(spec.key) ? '' : ` (default: ${JSON.stringify(defaults[spec.key])})`;
    command.addOption(new Option(spec.flag, `${spec.description}${shown}; env ${spec.env}`));
  }
  return command.addHelpText('after', `\nPrecedence: flag > environment > config file > default. ${stopping}\n`);
}

/** The configuration of parsed flags: loadOptions over the table, with the environment and `--config`. */
export function configOfFlags<Config extends object>(table: readonly OptionSpec<Extract<keyof Config, string>>[], defaults: Config, flags: Record<string, unknown>): Config {
  const given: Partial<Record<keyof Config, unknown>> = {};
  for (const spec of table) {
    const value = flags[new Option(spec.flag).attributeName()];
    if (value !== undefined) given[spec.key] = value;
  }
  const configPath = (flags.config as string | undefined) ?? process.env.RUNNER_CODES_CONFIG;
  return loadOptions(table, defaults, given, process.env, configPath);
}
