import type { DataPaths } from '../config/paths.js';
import { ErrorCodes, SandboxError } from '../errors.js';
import type { HostCapabilities } from './availability.js';
import type { Backend } from './backend.js';
import type { CgroupDriver } from './cgroup/types.js';
import type { HostIdRange } from './host-ids.js';

/** Whether Firecracker runs jailed: `auto` when a jailer is found, `on` requires one, `off` never. */
export const JAILER_MODES = ['auto', 'on', 'off'] as const;
export type JailerMode = (typeof JAILER_MODES)[number];

/** What every backend's `open.ts` is given: this host's built files, cgroups, uids and what it can run. */
export interface BackendHost {
  paths: DataPaths;
  cgroups: CgroupDriver;
  /** Host uids sandboxes run as, one per live sandbox. */
  hostIds: HostIdRange;
  capabilities: HostCapabilities;
  firecrackerJailer?: JailerMode;
  /** Start sandboxes through runner-forkserver where the backend can (servers: many starts, a large process). */
  forkServer?: boolean;
}

/** The one export of each backend folder's `open.ts`: the backend on this host, or an error naming what is missing. */
export type OpenBackend = (host: BackendHost) => Backend;

/** A host dependency that setup should have provided is missing. */
export function missing(what: string): SandboxError {
  return new SandboxError(ErrorCodes.HOST_DEPENDENCY, what, { hint: 'run `infra.operator setup` (as root)' });
}
