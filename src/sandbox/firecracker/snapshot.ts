import { lstatSync } from 'node:fs';
import { chmod, chown, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { ErrorCodes, SandboxError } from '../../errors.js';
import type { ImageManifest } from '../../images/manifest.js';
import type { VmPaths } from '../../images/vm/paths.js';
import type { SandboxLiveness } from '../launched-sandbox.js';
import { stopProcess } from '../process-sandbox.js';
import type { LaunchedVm } from '../vm-backend.js';
import { bootMicroVm, createSnapshot } from './api-flows.js';
import { withApi } from './connect.js';
import { FIRECRACKER_FILES, type FirecrackerPaths } from './launcher.js';
import { bootConfig, type FirecrackerPlan } from './plan.js';
import { sha256, snapshotFiles, type SnapshotManifest } from './snapshot-manifest.js';

export interface SnapshotCreateOptions {
  /** How the Firecracker that boots and snapshots names its files. */
  paths: FirecrackerPaths;
  /** Whether that Firecracker runs under the jailer: its snapshot restores only the same way. */
  jailed: boolean;
  vm: VmPaths;
  image: ImageManifest;
  kernelRelease: string;
  memoryMib: number;
  startTimeoutMs: number;
}

/** The guest's init prints this on the console when it listens for the host: the moment to snapshot. */
const GUEST_WAITING = /runner-vminit: waiting for the host/;

/**
 * Makes an image's snapshot: boots a VM like any other, waits until the guest's init listens for
 * the host (nothing of any execution has happened yet), pauses it, has Firecracker write the VM
 * state and memory, and stops it (the caller, FirecrackerBackend.snapshot, frees its slot).
 * Restores then skip the boot; each gets its own vsock path, and the hello line refreshes its
 * clock and entropy (see runner-vminit).
 */
export async function makeSnapshot(vmm: LaunchedVm<FirecrackerPlan>, options: SnapshotCreateOptions): Promise<SnapshotManifest> {
  const files = snapshotFiles(options.vm, options.image.id);
  const { paths } = options;
  let console = '';
  let exited = false;
  const gone = new Promise<void>((resolve) => vmm.child.once('close', () => resolve()));
  const waiting = new Promise<void>((resolve, reject) => {
    const watch = (chunk: Buffer): void => {
      console = (console + chunk.toString('utf8')).slice(-16_384);
      if (GUEST_WAITING.test(console)) resolve();
    };
    vmm.child.stdout!.on('data', watch);
    vmm.child.stderr!.on('data', watch);
    vmm.child.once('exit', () => {
      exited = true;
      reject(new SandboxError(ErrorCodes.SANDBOX_START, `the VM exited before its guest listened: ${console.trim().split('\n').slice(-3).join(' | ')}`));
    });
  });
  waiting.catch(() => undefined);
  const deadline = Date.now() + options.startTimeoutMs;
  const live: SandboxLiveness = {
    deadline,
    check: () => {
      if (exited) throw new SandboxError(ErrorCodes.SANDBOX_START, `firecracker exited before it opened its API socket: ${console.trim().split('\n').slice(-3).join(' | ')}`);
      if (Date.now() > deadline) throw new SandboxError(ErrorCodes.SANDBOX_START, 'firecracker did not open its API socket');
    },
  };
  const timeout = setTimeout(() => vmm.child.kill('SIGTERM'), options.startTimeoutMs);
  const stop = async (): Promise<void> => {
    clearTimeout(timeout);
    await stopProcess(vmm.child, vmm.cgroup, gone);
  };
  try {
    const snapshot = { snapshot_type: 'Full' as const, snapshot_path: paths.vmm(FIRECRACKER_FILES.vmstate), mem_file_path: paths.vmm(FIRECRACKER_FILES.memory) };
    await withApi(
      { host: paths.host(FIRECRACKER_FILES.api), uid: vmm.uid },
      live,
      async (client) => {
        await bootMicroVm(client, bootConfig(paths, vmm.plan.limits));
        await waiting;
        await createSnapshot(client, snapshot);
      },
      30_000,
    );
    // The VM is stopped before anything it wrote is touched: no process of its uid is left to swap them.
    await stop();
    await rm(files.dir, { recursive: true, force: true });
    await mkdir(files.dir, { recursive: true });
    for (const [name, to] of [
      [FIRECRACKER_FILES.vmstate, files.vmstate],
      [FIRECRACKER_FILES.memory, files.memory],
    ] as const) {
      await adoptVmFile(paths.host(name), to, vmm.uid);
    }
    const manifest: SnapshotManifest = {
      image: options.image.id,
      image_recipe_hash: options.image.recipe_hash,
      kernel: options.kernelRelease,
      initramfs_sha256: sha256(options.vm.initramfs),
      jailed: options.jailed,
      memory_mib: options.memoryMib,
      created_at: new Date().toISOString(),
    };
    await writeFile(files.manifest, JSON.stringify(manifest, null, 2) + '\n');
    return manifest;
  } finally {
    await stop();
  }
}

/**
 * SECURITY: moves a file the VM wrote into root's keeping, read by every restoring VM and written by
 * none. Only a plain file the VM's uid made, with no other link: never a symlink, nor a hard link
 * to a host file (which the chown and chmod would then expose).
 */
async function adoptVmFile(from: string, to: string, uid: number): Promise<void> {
  const stat = lstatSync(from);
  if (!stat.isFile() || stat.uid !== uid || stat.nlink !== 1) {
    throw new SandboxError(ErrorCodes.SANDBOX_START, `${from} is not a plain file written by the VM; the snapshot is refused`);
  }
  await rename(from, to);
  await chown(to, 0, 0);
  await chmod(to, 0o644);
}
