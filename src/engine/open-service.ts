import type { Engine } from './engine.js';
import { openEngine, type OpenEngineOptions } from './open-engine.js';
import type { QueueOptions } from './queue.js';
import { ExecutionService } from './service.js';
import type { SessionSettings } from './sessions/session-settings.js';

export interface OpenServiceOptions extends QueueOptions {
  /** The default backend's engine (with the warm pool, if any). */
  engine: OpenEngineOptions;
  /** Further backends a request may pick; they get no pool (VMs are expensive to keep idle). */
  backends?: readonly NonNullable<OpenEngineOptions['backend']>[];
  /** What sessions may be (their lifetimes and caps); the defaults otherwise. */
  sessions?: SessionSettings;
}

/**
 * The service on this host: the default engine, then one for each further backend a request may
 * pick. A backend that cannot run on this host fails the start, naming why.
 */
export async function openService(options: OpenServiceOptions): Promise<ExecutionService> {
  const { engine: engineOptions, backends = [], concurrency, maxQueued, sessions } = options;
  const first = await openEngine(engineOptions);
  const engines = new Map<string, Engine>([[first.backend.name, first]]);
  try {
    const { pool: _pool, ...withoutPool } = engineOptions;
    for (const name of backends) {
      if (!engines.has(name)) engines.set(name, await openEngine({ ...withoutPool, backend: name }));
    }
  } catch (err) {
    await Promise.all([...engines.values()].map((engine) => engine.close()));
    throw err;
  }
  return new ExecutionService(engines, { concurrency, maxQueued }, sessions);
}
