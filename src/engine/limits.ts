import { InvalidRequestError } from '../errors.js';
import type { LanguageSpec } from '../languages/types.js';

const MiB = 1024 * 1024;

/** Every limit one execution runs under. All sizes in bytes, times in ms. */
export interface Limits {
  runTimeoutMs: number;
  compileTimeoutMs: number;
  memoryBytes: number;
  pids: number;
  /** Cap for each of stdout and stderr, per stage. */
  outputBytes: number;
  nofile: number;
  /** Largest file a program may write (RLIMIT_FSIZE). */
  fileSizeBytes: number;
  stackBytes: number;
  /** Size of the /work and /tmp tmpfs mounts (each). */
  diskBytes: number;
  /** CPU share as a number of CPUs (cgroup quota). */
  cpus: number;
}

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

/** How each requestable limit maps onto Limits; `field` is the name callers see in errors. */
const REQUESTABLE: readonly {
  key: keyof LimitRequest;
  target: keyof Limits;
  field: string;
  unit: string;
  scale: number;
  min: number;
}[] = [
  { key: 'timeoutMs', target: 'runTimeoutMs', field: 'timeout', unit: 'ms', scale: 1, min: 1 },
  { key: 'compileTimeoutMs', target: 'compileTimeoutMs', field: 'compile_timeout', unit: 'ms', scale: 1, min: 1 },
  // Below 16 MiB the agent and the dynamic loader alone can hit the limit.
  { key: 'memoryMb', target: 'memoryBytes', field: 'memory', unit: 'MB', scale: MiB, min: 16 },
  { key: 'pids', target: 'pids', field: 'pids', unit: '', scale: 1, min: 4 },
  { key: 'outputLimitBytes', target: 'outputBytes', field: 'output_limit', unit: 'bytes', scale: 1, min: 0 },
];

/**
 * Resolves the limits of one execution: defaults, then the language's overrides, then the
 * request. Throws InvalidRequestError naming the field for anything out of range.
 */
export function resolveLimits(
  language: LanguageSpec,
  request: LimitRequest = {},
  defaults: Limits = DEFAULT_LIMITS,
  maxima: Limits = DEFAULT_MAXIMA,
): Limits {
  const limits: Limits = { ...defaults, ...language.limits };
  for (const { key, target, field, unit, scale, min } of REQUESTABLE) {
    const value = request[key];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      throw new InvalidRequestError(field, 'must be an integer');
    }
    const max = Math.floor(maxima[target] / scale);
    const units = unit ? ` ${unit}` : '';
    if (value < min) throw new InvalidRequestError(field, `must be at least ${min}${units}`);
    if (value > max) throw new InvalidRequestError(field, `must be at most ${max}${units} (server maximum)`);
    limits[target] = value * scale;
  }
  return limits;
}
