import type { DataPaths } from '../../src/config/paths.js';
import { vmPaths, type VmPaths } from '../../src/images/vm/paths.js';
import { openCgroupDriver } from '../../src/sandbox/cgroup/detect.js';
import { DEFAULT_HOST_ID_RANGE } from '../../src/sandbox/host-ids.js';
import type { VmHostOptions } from '../../src/sandbox/vm-backend.js';

/** What every VM backend a test builds by hand takes: this data dir's launcher, guest, cgroups and uids; TCG's boot budget. */
export function vmHostOptions(paths: DataPaths): VmHostOptions & { vm: VmPaths } {
  const vm = vmPaths(paths);
  return { launcherPath: paths.launcher, vm, cgroups: openCgroupDriver(), hostIds: DEFAULT_HOST_ID_RANGE, runDir: vm.runDir, startTimeoutMs: 60_000 };
}
