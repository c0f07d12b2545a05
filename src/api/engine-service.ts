import type { Engine } from '../engine/engine.js';
import type { PoolStats } from '../engine/pool.js';
import type { ExecuteRequest } from '../engine/request.js';
import type { ExecutionResult } from '../engine/result.js';
import type { ImageStore } from '../images/store.js';

/**
 * What the HTTP API needs of the engine. In one process it is the engine itself
 * (localEngineService); with privilege separation the API runs unprivileged and this is a client
 * of the engine in the privileged parent (engine-ipc.ts).
 */
export interface EngineService {
  readonly backendName: string;
  /** The image store, read-only here (manifests: versions, sizes). */
  readonly images: ImageStore;
  execute(request: ExecuteRequest, options: { traceId: string; signal?: AbortSignal }): Promise<ExecutionResult>;
  poolStats(): Promise<PoolStats | null>;
}

export function localEngineService(engine: Engine): EngineService {
  return {
    backendName: engine.backend.name,
    images: engine.images,
    execute: (request, options) => engine.execute(request, options),
    poolStats: async () => engine.pool?.stats() ?? null,
  };
}
