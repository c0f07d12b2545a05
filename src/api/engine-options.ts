import type { OpenEngineOptions } from '../engine/open-engine.js';
import { openService } from '../engine/open-service.js';
import type { ExecutionService } from '../engine/service.js';
import type { PoolOptions } from '../engine/pool.js';
import { engineMaxima } from '../engine/maxima.js';
import { DEFAULT_SESSION_SETTINGS, type SessionSettings } from '../engine/sessions/session-settings.js';
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
    ...engineMaxima(config),
    backend: config.backend,
    firecrackerJailer: config.firecrackerJailer,
    // A server answers before the used sandbox is torn down; close() waits for the teardown.
    deferDestroy: true,
    ...(pool ? { pool } : {}),
  };
}

/** The sessions' lifetimes and caps of a configuration. */
export function sessionSettingsFor(config: ApiConfig): SessionSettings {
  return {
    ...DEFAULT_SESSION_SETTINGS,
    idleTimeoutMs: Math.min(config.sessionIdleTimeoutMs, config.sessionMaxIdleTimeoutMs),
    maxIdleTimeoutMs: config.sessionMaxIdleTimeoutMs,
    maxLifetimeMs: config.sessionMaxLifetimeMs,
    maxPerKey: config.sessionsPerKey,
    maxTotal: config.sessionsMax,
    memoryBudgetBytes: config.sessionMemoryMb * 1024 * 1024,
    maxFileBytes: config.sessionMaxFileBytes,
    maxSessionBytes: config.sessionMaxBytes,
  };
}

/**
 * Opens the server's service: the default backend's engine (with the warm pool), one more for each
 * further backend requests may pick (`allowed_backends`), behind the configured queue.
 */
export async function openServerService(config: ApiConfig): Promise<ExecutionService> {
  return openService({ engine: engineOptionsFor(config), backends: config.allowedBackends, concurrency: config.concurrency, maxQueued: config.queueLimit, sessions: sessionSettingsFor(config) });
}
