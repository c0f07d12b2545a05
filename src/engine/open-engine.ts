import { existsSync } from 'node:fs';
import { dataPaths, type DataPaths } from '../config/paths.js';
import { ErrorCodes, SandboxError } from '../errors.js';
import { which } from '../config/which.js';
import { ImageStore } from '../images/store.js';
import { requireKernelManifest } from '../images/vm/kernel.js';
import { vmPaths } from '../images/vm/paths.js';
import { languagesOfImage } from '../languages/lookup.js';
import { chooseBackend, hostCapabilities, type BackendChoice } from '../sandbox/availability.js';
import type { Backend } from '../sandbox/backend.js';
import { BwrapBackend } from '../sandbox/bwrap/backend.js';
import { QemuBackend } from '../sandbox/qemu/backend.js';
import { guestClock } from '../sandbox/qemu/guest-clock.js';
import { openCgroupDriver } from '../sandbox/cgroup/detect.js';
import type { CgroupDriver } from '../sandbox/cgroup/types.js';
import { DEFAULT_HOST_ID_RANGE, type HostIdRange } from '../sandbox/host-ids.js';
import { isProcessAlive, ownerOf } from '../sandbox/names.js';
import { Engine, type EngineOptions } from './engine.js';
import type { JailerMode } from '../sandbox/firecracker/jailer.js';
import { DEFAULT_LIMITS, resolveLimits, type Limits } from './limits.js';
import { SandboxPool, type PoolOptions } from './pool.js';

export { DEFAULT_HOST_ID_RANGE } from '../sandbox/host-ids.js';

export interface OpenEngineOptions extends Partial<Omit<EngineOptions, 'backend' | 'images' | 'pool'>> {
  /** Keep a warm pool of sandboxes with these settings. */
  pool?: PoolOptions;
  paths?: DataPaths;
  /** Host uids sandboxes run as, one per live sandbox (default DEFAULT_HOST_ID_RANGE). */
  hostIds?: HostIdRange;
  cgroupParent?: string;
  /** Isolation backend (default `auto`: see chooseBackend). */
  backend?: BackendChoice;
  /** Whether Firecracker runs under its jailer (default `auto`: when a jailer is found). */
  firecrackerJailer?: JailerMode;
}

/**
 * Wires an Engine to this host: checks that setup has run, picks the backend, opens the cgroup
 * driver, removes sandboxes left behind by crashed processes, and starts the backend.
 */
export async function openEngine(options: OpenEngineOptions = {}): Promise<Engine> {
  const paths = options.paths ?? dataPaths();
  for (const [file, what] of [
    [paths.agent, 'the agent'],
    [paths.launcher, 'the launcher'],
  ] as const) {
    if (!existsSync(file)) throw missing(`${what} is not built (${file})`);
  }
  const capabilities = hostCapabilities(paths);
  // auto falls back to bwrap, whose own checks below name what is missing.
  const name = chooseBackend(options.backend ?? 'auto', capabilities);
  const cgroups = openCgroupDriver(options.cgroupParent);
  await removeStaleSandboxes(cgroups);
  const hostIds = options.hostIds ?? DEFAULT_HOST_ID_RANGE;
  const backend =
    name === 'qemu'
      ? qemuBackend(paths, cgroups, hostIds, capabilities.qemuAccel, capabilities.kvm.deviceGroup)
      : name === 'firecracker'
        ? await openFirecrackerBackend(paths, cgroups, hostIds, options.firecrackerJailer)
        : bwrapBackend(paths, cgroups, hostIds);
  const { pool, backend: _choice, firecrackerJailer: _jailer, ...engineOptions } = options;
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

function bwrapBackend(paths: DataPaths, cgroups: CgroupDriver, hostIds: HostIdRange): Backend {
  const bwrap = which('bwrap');
  if (!bwrap) throw missing('bubblewrap (bwrap) is not installed');
  if (!existsSync(paths.seccompFilter)) throw missing(`the seccomp filter is not built (${paths.seccompFilter})`);
  return new BwrapBackend({ bwrapPath: bwrap, launcherPath: paths.launcher, agentPath: paths.agent, seccompFilterPath: paths.seccompFilter, seccompFilterI386Path: paths.seccompFilterI386, cgroups, hostIds });
}

/** `kvmGroup`: /dev/kvm's group where only it may open the device (used only with KVM). */
function qemuBackend(paths: DataPaths, cgroups: CgroupDriver, hostIds: HostIdRange, accel: 'kvm' | 'tcg', kvmGroup: number | null): Backend {
  const vm = vmPaths(paths);
  const kernel = requireKernelManifest(vm);
  return new QemuBackend({
    qemuPath: which('qemu-system-x86_64')!,
    launcherPath: paths.launcher,
    vm,
    cgroups,
    hostIds,
    accel,
    clock: guestClock(kernel.hz),
    runDir: vm.runDir,
    ...(kvmGroup !== null ? { kvmGroup } : {}),
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

/**
 * The firecracker backend, loaded only when chosen: its API client pulls in undici, which would
 * add about 140 ms to the start of every CLI run.
 */
async function openFirecrackerBackend(...args: Parameters<typeof import('./open-firecracker.js').firecrackerBackend>): Promise<Backend> {
  return (await import('./open-firecracker.js')).firecrackerBackend(...args);
}

export function missing(what: string): SandboxError {
  return new SandboxError(ErrorCodes.HOST_DEPENDENCY, what, { hint: 'run `infra.operator setup` (as root)' });
}
