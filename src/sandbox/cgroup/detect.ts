import { statfsSync } from 'node:fs';
import { ErrorCodes, SandboxError } from '../../errors.js';
import type { CgroupDriver } from './types.js';
import { CgroupV1Driver } from './v1.js';
import { CgroupV2Driver } from './v2.js';

const CGROUP2_SUPER_MAGIC = 0x63677270;
const TMPFS_MAGIC = 0x01021994;

export type CgroupMode = 'v2' | 'v1' | 'none';

/** `v2` when /sys/fs/cgroup is cgroup2fs, `v1` for legacy/hybrid (tmpfs with per-controller mounts). */
export function detectCgroupMode(mount = '/sys/fs/cgroup'): CgroupMode {
  try {
    const type = statfsSync(mount).type;
    if (type === CGROUP2_SUPER_MAGIC) return 'v2';
    if (type === TMPFS_MAGIC) return 'v1';
  } catch {
    // fall through
  }
  return 'none';
}

/** The driver for this host. `parent` is the cgroup (relative path) sandboxes are created under. */
export function openCgroupDriver(parent = 'runner-codes', mount = '/sys/fs/cgroup'): CgroupDriver {
  if (process.getuid?.() !== 0) {
    throw new SandboxError(ErrorCodes.NEEDS_ROOT, 'creating sandbox cgroups needs root', {
      hint: 'run as root (cgroups bound memory, processes and CPU of every sandbox)',
    });
  }
  const mode = detectCgroupMode(mount);
  if (mode === 'v2') return new CgroupV2Driver(mount, parent);
  if (mode === 'v1') return new CgroupV1Driver(mount, parent);
  throw new SandboxError(ErrorCodes.HOST_DEPENDENCY, `no cgroup filesystem at ${mount}`, {
    hint: 'mount cgroup2 at /sys/fs/cgroup (or the v1 controllers memory, pids, cpu, freezer)',
  });
}
