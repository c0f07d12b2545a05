import type { DataPaths } from '../config/paths.js';
import type { BuildEvent } from '../images/builder.js';
import type { ImageStore } from '../images/store.js';
import { buildDisk, diskIsCurrent } from '../images/vm/disk.js';
import { buildInitramfs } from '../images/vm/initramfs.js';
import { fetchKernel, type KernelManifest } from '../images/vm/kernel.js';
import { vmPaths } from '../images/vm/paths.js';

export interface VmSetupReport {
  kernel: KernelManifest;
  initramfs: string;
  /** Disks made in this run (the others were current). */
  disks: string[];
  /** The Firecracker binary checked and linked, when one was given. */
  firecracker?: string;
}

/**
 * Prepares what microVMs boot: Debian's cloud kernel and its virtio modules, an initramfs with
 * runner-vminit and runner-agent (rebuilt every time: it is small and follows the agent), and a
 * read-only ext4 disk per language image, remade only when its image changed.
 */
export async function setupVm(paths: DataPaths, store: ImageStore, imageIds: readonly string[], progress: (event: BuildEvent) => void): Promise<VmSetupReport> {
  const vm = vmPaths(paths);
  const log = (line: string): void => progress({ image: 'vm', kind: 'log', message: line });
  progress({ image: 'vm', kind: 'step', message: 'guest kernel (apt-get download linux-image-cloud-amd64)' });
  const kernel = await fetchKernel(vm, log);
  progress({ image: 'vm', kind: kernel.fetched ? 'done' : 'skip', message: `kernel ${kernel.manifest.release}${kernel.fetched ? '' : ' (current)'}` });
  progress({ image: 'vm', kind: 'step', message: 'initramfs (runner-vminit, runner-agent, virtio modules)' });
  await buildInitramfs(vm, paths.vmInit, paths.agent);
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
  return { kernel: kernel.manifest, initramfs: vm.initramfs, disks };
}
