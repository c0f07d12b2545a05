import type { OpenEngineOptions } from '../compose/open-engine.js';
import { openService } from '../compose/open-service.js';
import type { ExecutionService } from '../engine/service.js';
import { engineMaxima } from '../engine/maxima.js';
import { DEFAULT_SESSION_SETTINGS, type SessionSettings } from '../engine/sessions/session-settings.js';
import { ErrorCodes, RunnerError } from '../errors.js';
import { findLanguage } from '../languages/lookup.js';
import { BACKEND_NAMES, type BackendName } from '../sandbox/backend-names.js';
import type { ApiConfig } from './config.js';

function imageOf(language: string, option: string): string {
  const lang = findLanguage(language);
  if (!lang) throw new RunnerError(ErrorCodes.CONFIG, `${option}: unknown language '${language}'`);
  return lang.image;
}

function backendOf(name: string, option: string): BackendName {
  if (!(BACKEND_NAMES as readonly string[]).includes(name)) throw new RunnerError(ErrorCodes.CONFIG, `${option}: unknown backend '${name}' (known: ${BACKEND_NAMES.join(', ')})`);
  return name as BackendName;
}

/** NAME=N entries of a list option. */
function counts(entries: readonly string[], option: string, form: string): [name: string, count: number][] {
  return entries.map((entry) => {
    const match = /^([^=\s]+)=(\d+)$/.exec(entry);
    if (!match) throw new RunnerError(ErrorCodes.CONFIG, `${option}: '${entry}' is not ${form}`);
    return [match[1]!, Number(match[2])];
  });
}

/** The warm pool settings of a configuration (sizes are per language there, per image here), every backend's. */
export function poolOptionsFor(config: ApiConfig): Pick<OpenEngineOptions, 'pool' | 'poolSizes'> {
  if (config.poolSize === 0 && config.poolSizes.length === 0 && config.poolBackendSizes.length === 0) return {};
  const sizes: Record<string, number> = {};
  const poolSizes: Partial<Record<BackendName, { defaultSize?: number; sizes: Record<string, number> }>> = {};
  const own = (backend: string, option: string) => (poolSizes[backendOf(backend, option)] ??= { sizes: {} });
  for (const [name, count] of counts(config.poolSizes, '--pool-sizes', '[BACKEND:]LANGUAGE=N')) {
    const colon = name.indexOf(':');
    const [backend, language] = colon < 0 ? [undefined, name] : [name.slice(0, colon), name.slice(colon + 1)];
    if (backend === undefined) sizes[imageOf(language!, '--pool-sizes')] = count;
    else own(backend, '--pool-sizes').sizes[imageOf(language!, '--pool-sizes')] = count;
  }
  for (const [backend, count] of counts(config.poolBackendSizes, '--pool-backend-sizes', 'BACKEND=N')) own(backend, '--pool-backend-sizes').defaultSize = count;
  return {
    pool: {
      defaultSize: config.poolSize,
      sizes,
      warm: [...new Set(config.poolWarm.map((lang) => imageOf(lang, '--pool-warm')))],
      maxIdle: config.poolMaxIdle,
      maxIdleMemoryBytes: config.poolMaxIdleMemoryMb * 1024 * 1024,
      idleTtlMs: config.poolIdleTtlMs,
      shrinkAfterMs: config.poolShrinkAfterMs,
      prestart: config.poolPrestart === 'on',
    },
    ...(Object.keys(poolSizes).length > 0 ? { poolSizes } : {}),
  };
}

/** Everything the API configuration decides about the engine: maxima, input sizes, the pool. */
export function engineOptionsFor(config: ApiConfig): OpenEngineOptions {
  return {
    ...engineMaxima(config),
    backend: config.backend,
    firecrackerJailer: config.firecrackerJailer,
    // A server answers before the used sandbox is torn down; close() waits for the teardown.
    deferDestroy: true,
    // A server starts many sandboxes: through the fork server, not by forking its own large process.
    forkServer: true,
    ...poolOptionsFor(config),
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
 * Opens the server's service: the default backend's engine, one more for each further backend
 * requests may pick (`allowed_backends`), each with its warm pool, behind the configured queue.
 */
export async function openServerService(config: ApiConfig): Promise<ExecutionService> {
  return openService({ engine: engineOptionsFor(config), backends: config.allowedBackends, concurrency: config.concurrency, maxQueued: config.queueLimit, sessions: sessionSettingsFor(config) });
}
