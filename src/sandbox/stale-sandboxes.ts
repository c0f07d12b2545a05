import type { CgroupDriver } from './cgroup/types.js';
import { isProcessAlive, ownerOf } from './names.js';

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
