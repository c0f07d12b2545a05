import { InvalidRequestError } from '../errors.js';
import type { LanguageSpec } from '../languages/types.js';
import type { Limits } from '../sandbox/limits.js';
import { AboveMaximumError, type MaximumSetting } from './above-maximum.js';

export type { Limits } from '../sandbox/limits.js';

const MiB = 1024 * 1024;

/** What a caller may ask for, in the units callers use (ms, MB, bytes); everything optional. */
export interface LimitRequest {
  /** Run-stage wall-clock timeout, ms. */
  timeoutMs?: number;
  /** Compile-stage wall-clock timeout, ms. */
  compileTimeoutMs?: number;
  /** Memory limit of the sandbox, MiB. */
  memoryMb?: number;
  /** Most processes and threads at once. */
  pids?: number;
  /** Cap for each of stdout and stderr, bytes. */
  outputLimitBytes?: number;
}

export const DEFAULT_LIMITS: Limits = {
  runTimeoutMs: 10_000,
  compileTimeoutMs: 30_000,
  memoryBytes: 256 * MiB,
  pids: 64,
  outputBytes: 1 * MiB,
  nofile: 256,
  fileSizeBytes: 64 * MiB,
  stackBytes: 8 * MiB,
  diskBytes: 64 * MiB,
  cpus: 1,
};

/** Server-side maxima: a request above one is refused (400 naming the field), never silently clamped. */
export const DEFAULT_MAXIMA: Limits = {
  runTimeoutMs: 60_000,
  compileTimeoutMs: 120_000,
  memoryBytes: 2048 * MiB,
  pids: 512,
  outputBytes: 16 * MiB,
  nofile: 4096,
  fileSizeBytes: 512 * MiB,
  stackBytes: 256 * MiB,
  diskBytes: 1024 * MiB,
  cpus: 4,
};

/** One limit a caller may ask for: its name at each edge, how it maps onto Limits, what bounds it. */
export interface LimitOption {
  key: keyof LimitRequest;
  target: keyof Limits;
  /** The field in the HTTP API's body (and in engine errors). */
  field: string;
  /** The flag of `infra.operator run`, in commander syntax. */
  flag: string;
  unit: string;
  scale: number;
  min: number;
  /** The maxima setting that bounds it (MAXIMA_OPTIONS in maxima.ts). */
  setting: MaximumSetting;
  description: string;
}

/** The requestable limits: read by resolveLimits, the API's execute route and the CLI's `run` flags. */
export const LIMIT_OPTIONS: readonly LimitOption[] = [
  { key: 'timeoutMs', target: 'runTimeoutMs', field: 'timeout', flag: '-t, --timeout <ms>', unit: 'ms', scale: 1, min: 1, setting: 'maxTimeoutMs', description: 'run-stage wall-clock limit, ms' },
  { key: 'compileTimeoutMs', target: 'compileTimeoutMs', field: 'compile_timeout', flag: '--compile-timeout <ms>', unit: 'ms', scale: 1, min: 1, setting: 'maxTimeoutMs', description: 'compile-stage wall-clock limit, ms' },
  // Below 16 MiB the agent and the dynamic loader alone can hit the limit.
  { key: 'memoryMb', target: 'memoryBytes', field: 'memory', flag: '-m, --memory <MB>', unit: 'MB', scale: MiB, min: 16, setting: 'maxMemoryMb', description: 'memory limit, MiB' },
  { key: 'pids', target: 'pids', field: 'pids', flag: '--pids <n>', unit: '', scale: 1, min: 4, setting: 'maxPids', description: 'most processes and threads' },
  { key: 'outputLimitBytes', target: 'outputBytes', field: 'output_limit', flag: '--output-limit <bytes>', unit: 'bytes', scale: 1, min: 0, setting: 'maxOutputBytes', description: 'cap per output stream, bytes' },
];

/** What an execution of `language` runs under when it asks for nothing: the defaults, then the language's overrides. */
export function languageLimits(language: LanguageSpec, defaults: Limits = DEFAULT_LIMITS): Limits {
  return { ...defaults, ...language.limits };
}

/**
 * Resolves the limits of one execution: languageLimits, then the request. Throws
 * InvalidRequestError naming the field for anything out of range.
 */
export function resolveLimits(
  language: LanguageSpec,
  request: LimitRequest = {},
  defaults: Limits = DEFAULT_LIMITS,
  maxima: Limits = DEFAULT_MAXIMA,
): Limits {
  const limits = languageLimits(language, defaults);
  for (const { key, target, field, unit, scale, min, setting } of LIMIT_OPTIONS) {
    const value = request[key];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      throw new InvalidRequestError(field, 'must be an integer');
    }
    const max = Math.floor(maxima[target] / scale);
    const units = unit ? ` ${unit}` : '';
    if (value < min) throw new InvalidRequestError(field, `must be at least ${min}${units}`);
    if (value > max) throw new AboveMaximumError(field, `must be at most ${max}${units}`, setting, { note: ' (server maximum)' });
    limits[target] = value * scale;
  }
  return limits;
}
