import { existsSync } from 'node:fs';
import type { DataPaths } from '../config/paths.js';
import { chooseBackend, hostCapabilities } from './availability.js';
import type { Backend } from './backend.js';
import { missing, type JailerMode, type OpenBackend } from './backend-host.js';
import type { BackendChoice, BackendName } from './backend-names.js';
import { openCgroupDriver } from './cgroup/detect.js';
import { DEFAULT_HOST_ID_RANGE, type HostIdRange } from './host-ids.js';
import { removeStaleSandboxes } from './stale-sandboxes.js';

/**
 * Each backend's folder, loaded only when chosen (the firecracker client alone pulls in undici,
 * about 140 ms at the start of every CLI run). Every folder's open.ts has the same shape.
 */
const BACKENDS: Record<BackendName, () => Promise<{ openBackend: OpenBackend }>> = {
  bwrap: () => import('./bwrap/open.js'),
  qemu: () => import('./qemu/open.js'),
  firecracker: () => import('./firecracker/open.js'),
};

export interface OpenBackendOptions {
  paths: DataPaths;
  /** Isolation backend (default `auto`: see chooseBackend). */
  backend?: BackendChoice;
  /** Host uids sandboxes run as, one per live sandbox (default DEFAULT_HOST_ID_RANGE). */
  hostIds?: HostIdRange;
  cgroupParent?: string;
  /** Whether Firecracker runs under its jailer (default `auto`: when a jailer is found). */
  firecrackerJailer?: JailerMode;
  /** Start sandboxes through runner-forkserver where the backend can (default: fork this process for each). */
  forkServer?: boolean;
}

/**
 * The backend on this host: checks that setup has run, picks the backend, opens the cgroup driver,
 * removes sandboxes left behind by crashed processes, and opens the backend's folder.
 */
export async function openBackend(options: OpenBackendOptions): Promise<Backend> {
  const { paths } = options;
  for (const [file, what] of [
    [paths.agent, 'the agent'],
    [paths.launcher, 'the launcher'],
  ] as const) {
    if (!existsSync(file)) throw missing(`${what} is not built (${file})`);
  }
  const capabilities = hostCapabilities(paths);
  // auto falls back to bwrap, whose own checks name what is missing.
  const name = chooseBackend(options.backend ?? 'auto', capabilities);
  const cgroups = openCgroupDriver(options.cgroupParent);
  await removeStaleSandboxes(cgroups);
  const { openBackend: open } = await BACKENDS[name]();
  return open({
    paths,
    cgroups,
    hostIds: options.hostIds ?? DEFAULT_HOST_ID_RANGE,
    capabilities,
    firecrackerJailer: options.firecrackerJailer,
    ...(options.forkServer ? { forkServer: true } : {}),
  });
}
