import type { Engine } from '../engine/engine.js';
import type { PoolStats } from '../engine/pool.js';
import type { ExecuteRequest } from '../engine/request.js';
import type { ExecutionResult } from '../engine/result.js';
import { InvalidRequestError } from '../errors.js';
import type { ImageStore } from '../images/store.js';

/**
 * What the HTTP API needs of the engine. In one process it is the engine itself
 * (localEngineService); with privilege separation the API runs unprivileged and this is a client
 * of the engine in the privileged parent (engine-ipc.ts).
 */
export interface EngineService {
  /** The default backend's name. */
  readonly backendName: string;
  /** The image store, read-only here (manifests: versions, sizes). */
  readonly images: ImageStore;
  execute(request: ExecuteRequest, options: ExecuteOptions): Promise<ExecutionResult>;
  poolStats(): Promise<PoolStats | null>;
}

export interface ExecuteOptions {
  traceId: string;
  signal?: AbortSignal;
  /** A backend the caller picked (`backend` in the body); it must be one the server offers. */
  backend?: string;
}

/** The server's engines: the default one first, then one per further backend a request may pick. */
export type Engines = ReadonlyMap<string, Engine>;

/** The engine a request asked for, or an error naming the `backend` field and what is offered. */
export function engineFor(engines: Engines, backend: string | undefined): Engine {
  const first = engines.values().next().value as Engine;
  if (backend === undefined) return first;
  const engine = engines.get(backend);
  if (!engine) throw new InvalidRequestError('backend', `'${backend}' is not offered by this server (offered: ${[...engines.keys()].join(', ')})`);
  return engine;
}

export function localEngineService(engines: Engines): EngineService {
  const first = engineFor(engines, undefined);
  return {
    backendName: first.backend.name,
    images: first.images,
    execute: (request, options) => engineFor(engines, options.backend).execute(request, options),
    poolStats: async () => first.pool?.stats() ?? null,
  };
}

/** The engine map from the default engine and the further ones (keyed by backend name). */
export function enginesOf(defaultEngine: Engine, others: readonly Engine[]): Engines {
  return new Map([defaultEngine, ...others].map((engine) => [engine.backend.name, engine]));
}
