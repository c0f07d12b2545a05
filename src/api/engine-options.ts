import type { Engine } from '../engine/engine.js';
import { openEngine, type OpenEngineOptions } from '../engine/open-engine.js';
import { enginesOf, type Engines } from './engine-service.js';
import type { PoolOptions } from '../engine/pool.js';
import { engineMaxima } from '../engine/maxima.js';
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

/**
 * Opens the server's engines: the default one (with the warm pool), then one for each further
 * backend requests may pick (`allowed_backends`; no pool: VMs are expensive to keep idle). A
 * backend that cannot run on this host fails the start, naming why.
 */
export async function openServerEngines(config: ApiConfig): Promise<Engines> {
  const options = engineOptionsFor(config);
  const first = await openEngine(options);
  const others: Engine[] = [];
  try {
    for (const name of config.allowedBackends) {
      if (name === first.backend.name || others.some((engine) => engine.backend.name === name)) continue;
      const { pool: _pool, ...withoutPool } = options;
      others.push(await openEngine({ ...withoutPool, backend: name }));
    }
  } catch (err) {
    await Promise.all([first, ...others].map((engine) => engine.close()));
    throw err;
  }
  return enginesOf(first, others);
}

export async function closeEngines(engines: Engines): Promise<void> {
  await Promise.all([...engines.values()].map((engine) => engine.close()));
}
