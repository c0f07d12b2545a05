import { join } from 'node:path';
import type { DataPaths } from '../../config/paths.js';

/**
 * Where the microVM guest's pieces live, under the data dir's `vm/`: the guest kernel and the
 * modules its initramfs loads, the initramfs itself, and one ext4 disk per language image.
 */
export interface VmPaths {
  dir: string;
  /** The unpacked Debian cloud kernel: vmlinuz, its config, the modules and a manifest. */
  kernelDir: string;
  vmlinuz: string;
  /** The uncompressed ELF kernel Firecracker boots (QEMU boots it too, through PVH). */
  vmlinux: string;
  kernelConfig: string;
  kernelManifest: string;
  modulesDir: string;
  initramfs: string;
  disksDir: string;
  /** Per-VM private directories (sockets) of running VMs. */
  runDir: string;
  /** Link to the Firecracker binary `setup --vm --firecracker PATH` checked. */
  firecracker: string;
  /** Link to the jailer `setup --vm --jailer PATH` checked. */
  jailer: string;
  /**
   * The jailer's chroot base: under the data dir, so on the file system of the kernel, disks and
   * snapshots that are hard-linked into each chroot.
   */
  jailDir: string;
}

export function vmPaths(paths: DataPaths): VmPaths {
  const dir = join(paths.root, 'vm');
  const kernelDir = join(dir, 'kernel');
  return {
    dir,
    kernelDir,
    vmlinuz: join(kernelDir, 'vmlinuz'),
    vmlinux: join(kernelDir, 'vmlinux'),
    kernelConfig: join(kernelDir, 'config'),
    kernelManifest: join(kernelDir, 'manifest.json'),
    modulesDir: join(kernelDir, 'modules'),
    initramfs: join(dir, 'initramfs.cpio'),
    disksDir: join(dir, 'disks'),
    runDir: join(paths.root, 'run'),
    firecracker: join(dir, 'bin', 'firecracker'),
    jailer: join(dir, 'bin', 'jailer'),
    jailDir: join(paths.root, 'jail'),
  };
}

/** The read-only root disk made from a language image. */
export function diskPath(vm: VmPaths, imageId: string): string {
  return join(vm.disksDir, `${imageId}.ext4`);
}

/**
 * The virtio drivers Debian's cloud kernel has as modules, in load order (dependencies first):
 * the microvm machine's devices are virtio-mmio, the root disk virtio-blk, the agent's channel
 * a virtio-serial port (vsock is for Firecracker).
 */
export const GUEST_MODULES: readonly string[] = [
  'drivers/virtio/virtio_ring.ko',
  'drivers/virtio/virtio.ko',
  'drivers/virtio/virtio_mmio.ko',
  'drivers/block/virtio_blk.ko',
  'drivers/char/virtio_console.ko',
  'net/vmw_vsock/vsock.ko',
  'net/vmw_vsock/vmw_vsock_virtio_transport_common.ko',
  'net/vmw_vsock/vmw_vsock_virtio_transport.ko',
];
