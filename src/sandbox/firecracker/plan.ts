import type { Limits } from '../limits.js';
import type { VmPaths } from '../../images/vm/paths.js';
import { guestMemoryMib } from '../vm-memory.js';
import type { MicroVmBootConfig, SnapshotRestoreConfig } from './api-flows.js';
import { AGENT_VSOCK_PORT } from './connect.js';
import { FIRECRACKER_FILES, type FirecrackerInputs, type FirecrackerPaths } from './launcher.js';
import type { SnapshotFiles } from './snapshot-manifest.js';

/**
 * Plan, then act: what one Firecracker VM is started with, as plain data. Its files by the names
 * Firecracker knows them by, then the API requests that boot it or restore it (api-flows.ts).
 */

/** The guest's vsock address; each VM has its own device, so every VM can use the same one. */
const GUEST_CID = 3;

/** One Firecracker VM: the host files it reads, the snapshot it restores (null: a cold boot), and its limits. */
export interface FirecrackerPlan {
  inputs: FirecrackerInputs;
  snapshot: SnapshotFiles | null;
  limits: Limits;
}

/** A cold boot of the image whose disk is `disk`: the shared vmlinux and initramfs, and that disk. */
export function bootPlan(vm: VmPaths, disk: string, limits: Limits): FirecrackerPlan {
  return { inputs: { [FIRECRACKER_FILES.kernel]: vm.vmlinux, [FIRECRACKER_FILES.initramfs]: vm.initramfs, [FIRECRACKER_FILES.disk]: disk }, snapshot: null, limits };
}

/** A restore of `snapshot`; it names the disk as it was given when the snapshot was made: the same name here. */
export function restorePlan(snapshot: SnapshotFiles, disk: string, limits: Limits): FirecrackerPlan {
  return { inputs: { [FIRECRACKER_FILES.disk]: disk, [FIRECRACKER_FILES.vmstate]: snapshot.vmstate, [FIRECRACKER_FILES.memory]: snapshot.memory }, snapshot, limits };
}

/** Firecracker's own arguments: its API socket in its directory. */
export const firecrackerArgs = (vmm: FirecrackerPaths['vmm']): string[] => ['--api-sock', vmm(FIRECRACKER_FILES.api)];

/** A cold boot's configuration: the shared vmlinux and initramfs, the image's disk read-only, vsock. */
export function bootConfig(paths: FirecrackerPaths, limits: Limits): MicroVmBootConfig {
  return {
    bootSource: {
      kernel_image_path: paths.vmm(FIRECRACKER_FILES.kernel),
      initrd_path: paths.vmm(FIRECRACKER_FILES.initramfs),
      boot_args: ['console=ttyS0', 'quiet', 'panic=-1', 'reboot=k', 'pci=off', 'rdinit=/init', `rc.vsock=${AGENT_VSOCK_PORT}`, `rc.tmpfs=${limits.diskBytes}`].join(' '),
    },
    drives: [{ drive_id: 'root', path_on_host: paths.vmm(FIRECRACKER_FILES.disk), is_root_device: true, is_read_only: true }],
    machine: { vcpu_count: 1, mem_size_mib: guestMemoryMib(limits) },
    vsock: { guest_cid: GUEST_CID, uds_path: paths.vmm(FIRECRACKER_FILES.vsock) },
  };
}

/** A restore's configuration: the snapshot's files, and a vsock socket of this VM's own. */
export function restoreConfig(paths: FirecrackerPaths): SnapshotRestoreConfig {
  return {
    snapshotPath: paths.vmm(FIRECRACKER_FILES.vmstate),
    memory: { backend_type: 'File', backend_path: paths.vmm(FIRECRACKER_FILES.memory) },
    vsockUdsPath: paths.vmm(FIRECRACKER_FILES.vsock),
  };
}
