import { DEFAULT_MAXIMA } from '../engine/limits.js';
import type { OpenEngineOptions } from '../engine/open-engine.js';
import type { PoolOptions } from '../engine/pool.js';
import { DEFAULT_INPUT_MAXIMA } from '../engine/request.js';
import { ErrorCodes, RunnerError } from '../errors.js';
import { findLanguage } from '../languages/lookup.js';
import type { ApiConfig } from './config.js';

function imageOf(language: string, option: string): string {
  const lang = findLanguage(language);
  if (!lang) throw new RunnerError(ErrorCodes.CONFIG, `${option}: unknown language '${language}'`);
  return lang.image;
}

/** The warm pool settings of a configuration (sizes are per language there, per image here). */
export function poolOptionsFor(config: ApiConfig): PoolOptions | undefined {
  if (config.poolSize === 0 && config.poolSizes.length === 0) return undefined;
  const sizes: Record<string, number> = {};
  for (const entry of config.poolSizes) {
    const match = /^([^=\s]+)=(\d+)$/.exec(entry);
    if (!match) throw new RunnerError(ErrorCodes.CONFIG, `--pool-sizes: '${entry}' is not LANGUAGE=N`);
    sizes[imageOf(match[1]!, '--pool-sizes')] = Number(match[2]);
  }
  return {
    defaultSize: config.poolSize,
    sizes,
    warm: [...new Set(config.poolWarm.map((lang) => imageOf(lang, '--pool-warm')))],
    maxIdle: config.poolMaxIdle,
    maxIdleMemoryBytes: config.poolMaxIdleMemoryMb * 1024 * 1024,
    idleTtlMs: config.poolIdleTtlMs,
    shrinkAfterMs: config.poolShrinkAfterMs,
  };
}

/** Everything the API configuration decides about the engine: maxima, input sizes, the pool. */
export function engineOptionsFor(config: ApiConfig): OpenEngineOptions {
  const pool = poolOptionsFor(config);
  return {
    maxima: {
      ...DEFAULT_MAXIMA,
      runTimeoutMs: config.maxTimeoutMs,
      compileTimeoutMs: Math.max(config.maxTimeoutMs, DEFAULT_MAXIMA.compileTimeoutMs),
      memoryBytes: config.maxMemoryMb * 1024 * 1024,
      outputBytes: config.maxOutputBytes,
    },
    inputMaxima: { ...DEFAULT_INPUT_MAXIMA, stdinBytes: config.maxStdinBytes, filesBytes: config.maxCodeBytes },
    backend: config.backend,
    // A server answers before the used sandbox is torn down; close() waits for the teardown.
    deferDestroy: true,
    ...(pool ? { pool } : {}),
  };
}
