import { dataPaths, type DataPaths } from '../config/paths.js';
import { ImageStore } from '../images/store.js';
import { languagesOfImage } from '../languages/lookup.js';
import { openBackend, type OpenBackendOptions } from '../sandbox/registry.js';
import { Engine, type EngineOptions } from '../engine/engine.js';
import { DEFAULT_LIMITS, resolveLimits, type Limits } from '../engine/limits.js';
import { SandboxPool, type PoolOptions } from '../engine/pool.js';

export interface OpenEngineOptions extends Partial<Omit<EngineOptions, 'backend' | 'images' | 'pool'>>, Omit<OpenBackendOptions, 'paths'> {
  /** Keep a warm pool of sandboxes with these settings. */
  pool?: PoolOptions;
  paths?: DataPaths;
}

/** An Engine on this host: the backend the registry opens (sandbox/registry.ts), the image store, the warm pool. */
export async function openEngine(options: OpenEngineOptions = {}): Promise<Engine> {
  const paths = options.paths ?? dataPaths();
  const { pool, backend: choice, firecrackerJailer, hostIds, cgroupParent, ...engineOptions } = options;
  const backend = await openBackend({ paths, backend: choice, firecrackerJailer, hostIds, cgroupParent });
  return new Engine({
    ...engineOptions,
    backend,
    images: new ImageStore(paths.imagesDir),
    ...(pool ? { pool: new SandboxPool(backend, { limitsOf: (image) => languageDefaults(image, options.defaults), ...pool }) } : {}),
  });
}

/**
 * What an image's executions get when they ask for nothing: its first language's limits (javascript
 * runs with 512 MiB, not the 256 MiB default), so that warm VMs boot with the RAM they will need.
 */
function languageDefaults(image: string, defaults: Limits = DEFAULT_LIMITS): Limits {
  const language = languagesOfImage(image)[0];
  return language ? resolveLimits(language, {}, defaults) : defaults;
}
