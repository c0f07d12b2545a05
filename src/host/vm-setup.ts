import type { DataPaths } from '../config/paths.js';
import type { BuildEvent } from '../images/builder.js';
import type { ImageStore } from '../images/store.js';
import { buildDisk, diskIsCurrent } from '../images/vm/disk.js';
import { buildInitramfs } from '../images/vm/initramfs.js';
import { buildKernel, KERNEL_SOURCE_PACKAGE } from '../images/vm/kernel-build.js';
import { fetchKernel, kernelModules, KERNEL_PACKAGE, readKernelManifest, type KernelManifest } from '../images/vm/kernel.js';
import { vmPaths, type VmPaths } from '../images/vm/paths.js';

export interface VmSetupReport {
  kernel: KernelManifest;
  initramfs: string;
  /** Disks made in this run (the others were current). */
  disks: string[];
  /** The Firecracker binary checked and linked, when one was given. */
  firecracker?: string;
  /** The jailer checked and linked, when one was given. */
  jailer?: string;
}

/**
 * Prepares what microVMs boot: Debian's cloud kernel and its virtio modules, an initramfs with
 * runner-vminit and runner-agent (rebuilt every time: it is small and follows the agent), and a
 * read-only ext4 disk per language image, remade only when its image changed.
 */
/** Which guest kernel: Debian's packaged one, one built here, or whichever is there (else Debian's). */
export type GuestKernelChoice = 'debian' | 'built' | 'keep';

export async function setupVm(paths: DataPaths, store: ImageStore, imageIds: readonly string[], progress: (event: BuildEvent) => void, kernelChoice: GuestKernelChoice = 'keep'): Promise<VmSetupReport> {
  const vm = vmPaths(paths);
  const log = (line: string): void => progress({ image: 'vm', kind: 'log', message: line });
  const kernel = await guestKernel(vm, kernelChoice, progress, log);
  progress({ image: 'vm', kind: 'step', message: 'initramfs (runner-vminit, runner-agent, virtio modules)' });
  await buildInitramfs(vm, paths.vmInit, paths.agent, kernelModules(kernel));
  const disks: string[] = [];
  for (const id of imageIds) {
    const manifest = store.manifest(id)!;
    if (diskIsCurrent(vm, manifest)) {
      progress({ image: id, kind: 'skip', message: 'VM disk up to date' });
      continue;
    }
    progress({ image: id, kind: 'step', message: 'VM disk (mkfs.ext4 -d)' });
    disks.push(await buildDisk(vm, manifest, store.rootfs(id), log));
    progress({ image: id, kind: 'done', message: 'VM disk made' });
  }
  return { kernel, initramfs: vm.initramfs, disks };
}

/**
 * Prepares the guest kernel: Debian's cloud kernel (fetched when its package changed), or one built
 * from linux-source (`built`: minutes of compiling, only when asked). `keep` keeps a built kernel
 * that is there, so a plain `setup --vm` never undoes `--build-kernel`.
 */
async function guestKernel(vm: VmPaths, choice: GuestKernelChoice, progress: (event: BuildEvent) => void, log: (line: string) => void): Promise<KernelManifest> {
  const current = readKernelManifest(vm);
  if (choice === 'built' || (choice === 'keep' && current?.source === 'built')) {
    progress({ image: 'vm', kind: 'step', message: `guest kernel (${KERNEL_SOURCE_PACKAGE} built with Firecracker's microVM configuration; a build takes minutes)` });
    const kernel = await buildKernel(vm, log);
    progress({ image: 'vm', kind: kernel.built ? 'done' : 'skip', message: `kernel ${kernel.manifest.release} built${kernel.built ? '' : ' (current; `--debian-kernel` switches back)'}` });
    return kernel.manifest;
  }
  progress({ image: 'vm', kind: 'step', message: `guest kernel (apt-get download ${KERNEL_PACKAGE})` });
  const kernel = await fetchKernel(vm, log);
  progress({ image: 'vm', kind: kernel.fetched ? 'done' : 'skip', message: `kernel ${kernel.manifest.release}${kernel.fetched ? '' : ' (current)'}` });
  return kernel.manifest;
}
