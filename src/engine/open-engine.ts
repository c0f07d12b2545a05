import { existsSync } from 'node:fs';
import { dataPaths, type DataPaths } from '../config/paths.js';
import { ErrorCodes, SandboxError } from '../errors.js';
import { which } from '../host/dependencies.js';
import { ImageStore } from '../images/store.js';
import { BwrapBackend } from '../sandbox/bwrap/backend.js';
import { openCgroupDriver } from '../sandbox/cgroup/detect.js';
import type { CgroupDriver } from '../sandbox/cgroup/types.js';
import { isProcessAlive, ownerOf } from '../sandbox/names.js';
import { Engine, type EngineOptions } from './engine.js';
import { SandboxPool, type PoolOptions } from './pool.js';

/** The unprivileged host uid/gid sandboxes run as (`nobody`); configurable for dedicated uids. */
export const DEFAULT_SANDBOX_HOST_UID = 65534;

export interface OpenEngineOptions extends Partial<Omit<EngineOptions, 'backend' | 'images' | 'pool'>> {
  /** Keep a warm pool of sandboxes with these settings. */
  pool?: PoolOptions;
  paths?: DataPaths;
  hostUid?: number;
  hostGid?: number;
  cgroupParent?: string;
}

/**
 * Wires an Engine to this host: checks that setup has run, opens the cgroup driver, removes
 * sandboxes left behind by crashed processes, and starts the bwrap backend.
 */
export async function openEngine(options: OpenEngineOptions = {}): Promise<Engine> {
  const paths = options.paths ?? dataPaths();
  const bwrap = which('bwrap');
  if (!bwrap) throw missing('bubblewrap (bwrap) is not installed');
  for (const [file, what] of [
    [paths.agent, 'the agent'],
    [paths.launcher, 'the launcher'],
    [paths.seccompFilter, 'the seccomp filter'],
  ] as const) {
    if (!existsSync(file)) throw missing(`${what} is not built (${file})`);
  }
  const cgroups = openCgroupDriver(options.cgroupParent);
  await removeStaleSandboxes(cgroups);
  const backend = new BwrapBackend({
    bwrapPath: bwrap,
    launcherPath: paths.launcher,
    agentPath: paths.agent,
    seccompFilterPath: paths.seccompFilter,
    cgroups,
    hostUid: options.hostUid ?? DEFAULT_SANDBOX_HOST_UID,
    hostGid: options.hostGid ?? DEFAULT_SANDBOX_HOST_UID,
  });
  const { pool, ...engineOptions } = options;
  return new Engine({
    ...engineOptions,
    backend,
    images: new ImageStore(paths.imagesDir),
    ...(pool ? { pool: new SandboxPool(backend, pool) } : {}),
  });
}

/** Kills and removes cgroups whose owning process is gone (a crash of an earlier server). */
export async function removeStaleSandboxes(cgroups: CgroupDriver): Promise<number> {
  let removed = 0;
  for (const name of cgroups.list()) {
    const owner = ownerOf(name);
    if (owner === undefined || isProcessAlive(owner)) continue;
    await cgroups.remove(name);
    removed++;
  }
  return removed;
}

function missing(what: string): SandboxError {
  return new SandboxError(ErrorCodes.HOST_DEPENDENCY, what, { hint: 'run `infra.operator setup` (as root)' });
}
