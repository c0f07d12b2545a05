import { ErrorCodes, RunnerError } from '../errors.js';
import type { Engine } from '../engine/engine.js';
import { PoolBudget } from '../engine/pool-budget.js';
import type { QueueOptions } from '../engine/queue.js';
import { ExecutionService } from '../engine/service.js';
import type { SessionSettings } from '../engine/sessions/session-settings.js';
import type { BackendName } from '../sandbox/backend-names.js';
import { openEngine, type OpenEngineOptions } from './open-engine.js';

export interface OpenServiceOptions extends QueueOptions {
  /**
   * The engines' options: `backend` is the default one; `pool` (and `poolSizes`) the warm pool of
   * every backend offered, all of them within one budget (`maxIdle`, `maxIdleMemoryBytes`).
   */
  engine: OpenEngineOptions;
  /** Further backends a request may pick. */
  backends?: readonly BackendName[];
  /**
   * What sessions may be (their lifetimes and caps); the defaults otherwise. `false`: a service
   * for one-shot executions only, which does not load the session manager at all.
   */
  sessions?: SessionSettings | false;
}

/**
 * The service on this host: the default engine, then one for each further backend a request may
 * pick, each with its warm pool per image; the pools share one PoolBudget, the default backend's
 * ranked first. A backend that cannot run on this host fails the start, naming why.
 */
export async function openService(options: OpenServiceOptions): Promise<ExecutionService> {
  const { engine: engineOptions, backends = [], concurrency, maxQueued, sessions } = options;
  const { pool } = engineOptions;
  const shared = pool ? { ...engineOptions, pool: { ...pool, budget: pool.budget ?? new PoolBudget(pool) } } : engineOptions;
  const Manager = sessions === false ? undefined : (await import('../engine/sessions/session-manager.js')).SessionManager;
  const engines = new Map<string, Engine>();
  try {
    const first = await openEngine(shared);
    engines.set(first.backend.name, first);
    for (const name of backends) {
      if (!engines.has(name)) engines.set(name, await openEngine({ ...shared, backend: name }));
    }
    const unused = Object.keys(engineOptions.poolSizes ?? {}).filter((name) => !engines.has(name));
    if (unused.length > 0) {
      const named = unused.map((n) => `'${n}'`).join(', ');
      throw new RunnerError(ErrorCodes.CONFIG, `pool sizes name ${named}, which this server does not offer (offered: ${[...engines.keys()].join(', ')}): offer it (allowed_backends) or drop its pool sizes`);
    }
  } catch (err) {
    await Promise.all([...engines.values()].map((engine) => engine.close()));
    throw err;
  }
  return new ExecutionService(engines, { concurrency, maxQueued }, Manager && { Manager, ...(sessions ? { settings: sessions } : {}) });
}
