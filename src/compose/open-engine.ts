import { dataPaths, type DataPaths } from '../config/paths.js';
import { ImageStore } from '../images/store.js';
import { useCatalogHome } from '../languages/extensions.js';
import { languagesOfImage } from '../languages/lookup.js';
import { openBackend, type OpenBackendOptions } from '../sandbox/registry.js';
import type { BackendName } from '../sandbox/backend-names.js';
import { Engine, type EngineOptions } from '../engine/engine.js';
import { DEFAULT_LIMITS, resolveLimits, type Limits } from '../engine/limits.js';
import { SandboxPool, type PoolOptions, type PoolSizes } from '../engine/pool.js';
import { prestartFrame } from '../engine/prestart.js';
import type { PrestartMessage } from '../protocol/messages.js';

export interface OpenEngineOptions extends Partial<Omit<EngineOptions, 'backend' | 'images' | 'pool'>>, Omit<OpenBackendOptions, 'paths'> {
  /** Keep a warm pool of sandboxes with these settings. */
  pool?: PoolOptions;
  /**
   * Per backend, pool sizes other than `pool`'s, for whichever backend this engine opens (`auto`
   * decides at start). A backend's own `defaultSize` replaces `pool`'s sizes altogether (0 with no
   * `sizes`: no pool on that backend); without one, its `sizes` are merged over `pool`'s.
   */
  poolSizes?: Partial<Record<BackendName, Partial<PoolSizes>>>;
  paths?: DataPaths;
}

/** An Engine on this host: the backend the registry opens (sandbox/registry.ts), the image store, the warm pool. */
export async function openEngine(options: OpenEngineOptions = {}): Promise<Engine> {
  const paths = options.paths ?? dataPaths();
  // The custom languages are those of the data home the engine runs images from.
  if (options.paths) useCatalogHome(paths.root);
  const { pool: shared, poolSizes, backend: choice, firecrackerJailer, hostIds, cgroupParent, forkServer, ...engineOptions } = options;
  const backend = await openBackend({ paths, backend: choice, firecrackerJailer, hostIds, cgroupParent, forkServer });
  const pool = shared && poolOf(shared, poolSizes?.[backend.name]);
  return new Engine({
    ...engineOptions,
    backend,
    images: new ImageStore(paths.imagesDir),
    ...(pool ? { pool: new SandboxPool(backend, { limitsOf: (image) => languageDefaults(image, options.defaults), prestartOf: prestartOfImage, ...pool }) } : {}),
  });
}

/** An image's prestart frame: its first language's recipe, if it has one (a pool is per image). */
function prestartOfImage(image: string, limits: Limits): PrestartMessage | undefined {
  const language = languagesOfImage(image)[0];
  return language ? prestartFrame(language.id, limits) : undefined;
}

/** One backend's pool settings: the shared ones with the backend's own sizes; undefined when they keep nothing. */
function poolOf(shared: PoolOptions, own: Partial<PoolSizes> | undefined): PoolOptions | undefined {
  const sizes: PoolSizes =
    own?.defaultSize !== undefined
      ? { defaultSize: own.defaultSize, sizes: own.sizes ?? {} }
      : { defaultSize: shared.defaultSize, sizes: { ...shared.sizes, ...own?.sizes } };
  const keeps = sizes.defaultSize > 0 || Object.values(sizes.sizes ?? {}).some((n) => n > 0);
  return keeps ? { ...shared, ...sizes } : undefined;
}

/**
 * What an image's executions get when they ask for nothing: its first language's limits (javascript
 * runs with 512 MiB, not the 256 MiB default), so that warm VMs boot with the RAM they will need.
 */
function languageDefaults(image: string, defaults: Limits = DEFAULT_LIMITS): Limits {
  const language = languagesOfImage(image)[0];
  return language ? resolveLimits(language, {}, defaults) : defaults;
}
