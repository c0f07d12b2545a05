import { Option } from 'commander';
import type { MaximumSetting } from '../engine/above-maximum.js';
import { LIMIT_OPTIONS } from '../engine/limits.js';
import { MAXIMA_OPTIONS } from '../engine/maxima.js';

/** The long flag of a commander flag string: '-t, --timeout <ms>' → '--timeout'. */
export function longFlag(flags: string): string {
  return new Option(flags).long ?? flags;
}

/** Engine request fields (the API's names) and the `run` flags that set them. */
const FLAG_OF_FIELD = new Map<string, string>([
  ['language', '--lang'],
  ['code', '--code'],
  ['entry', '--entry'],
  ['args', '--args'],
  ['env', '--env'],
  ...LIMIT_OPTIONS.map((o) => [o.field, longFlag(o.flag)] as [string, string]),
]);

/**
 * An engine error's field as a CLI user knows it: `timeout` → `--timeout`, `env.X` → `--env X`.
 * Fields the CLI itself named (`--file`) and others (`stdin`, `files[0].name`) stay as they are.
 */
export function cliFieldName(field: string): string {
  const [head, ...rest] = field.split('.');
  const flag = FLAG_OF_FIELD.get(head!);
  if (!flag) return field;
  return rest.length > 0 ? `${flag} ${rest.join('.')}` : flag;
}

/** The `run` flag that raises a maximum, e.g. `--max-timeout <ms>`. */
export function maximumFlag(setting: MaximumSetting): string {
  return MAXIMA_OPTIONS.find((o) => o.key === setting)!.flag;
}
