import type { CgroupLimits } from './cgroup/types.js';
import type { Limits } from './limits.js';

/** Guest RAM beyond the execution's memory limit: the guest kernel and its page cache. */
export const GUEST_KERNEL_MIB = 64;
/** Host memory a VMM needs beyond the guest's RAM (QEMU's TCG translation cache, device models). */
const VMM_OVERHEAD_BYTES = 192 * 1024 * 1024;

/**
 * What a VM takes at boot and keeps (Firecracker's pre-boot settings): its RAM (guestMemoryMib)
 * and its tmpfs sizes (`rc.tmpfs=` on the kernel command line). Only the cgroup around the VMM
 * follows a later applyLimits.
 */
export const VM_FIXED_AT_START = ['memoryBytes', 'diskBytes'] as const satisfies readonly (keyof Limits)[];

/** The guest's RAM: the execution's memory limit, plus room for its kernel. */
export function guestMemoryMib(limits: Limits): number {
  return Math.ceil(limits.memoryBytes / (1024 * 1024)) + GUEST_KERNEL_MIB;
}

/** The cgroup bounds the whole VM: guest RAM plus the VMM's own memory, and the VMM's threads. */
export function vmCgroupLimits(limits: Limits): CgroupLimits {
  return { ...limits, memoryBytes: limits.memoryBytes + GUEST_KERNEL_MIB * 1024 * 1024 + VMM_OVERHEAD_BYTES, pids: 64 };
}
