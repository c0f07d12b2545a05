import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { chmod, chown, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Limits } from '../../engine/limits.js';
import { ErrorCodes, SandboxError } from '../../errors.js';
import type { ImageManifest } from '../../images/manifest.js';
import type { VmPaths } from '../../images/vm/paths.js';
import { launchVmm, type VmHost } from '../vm-sandbox.js';
import { FirecrackerApiClient } from './api-client.js';
import { bootMicroVm, createSnapshot, type MicroVmBootConfig } from './api-flows.js';

/** Where an image's snapshot lives: Firecracker's VM state, the guest memory, and what it was made from. */
export interface SnapshotFiles {
  dir: string;
  vmstate: string;
  memory: string;
  manifest: string;
}

export interface SnapshotManifest {
  image: string;
  /** The image, kernel and initramfs it was made from: any change makes it stale. */
  image_recipe_hash: string;
  kernel: string;
  initramfs_sha256: string;
  /** Guest RAM: fixed by the snapshot, whatever an execution's memory limit. */
  memory_mib: number;
  created_at: string;
}

export function snapshotFiles(vm: VmPaths, image: string): SnapshotFiles {
  const dir = join(vm.dir, 'snapshots', image);
  return { dir, vmstate: join(dir, 'vmstate'), memory: join(dir, 'memory'), manifest: join(dir, 'manifest.json') };
}

const digests = new Map<string, { stamp: string; sha256: string }>();

/**
 * sha256 of a file, remembered while its size and mtime stay the same: the snapshot check runs on
 * every Firecracker start, and the initramfs it hashes changes only when `setup --vm` rewrites it.
 */
function sha256(path: string): string {
  const { size, mtimeMs, ino } = statSync(path);
  const stamp = `${ino}:${size}:${mtimeMs}`;
  const known = digests.get(path);
  if (known?.stamp === stamp) return known.sha256;
  const digest = createHash('sha256').update(readFileSync(path)).digest('hex');
  digests.set(path, { stamp, sha256: digest });
  return digest;
}

/** The image's snapshot when it was made from the image, kernel and initramfs as they are now. */
export function currentSnapshot(vm: VmPaths, image: ImageManifest, kernelRelease: string): SnapshotManifest | null {
  const files = snapshotFiles(vm, image.id);
  if (!existsSync(files.manifest) || !existsSync(files.vmstate) || !existsSync(files.memory)) return null;
  const manifest = JSON.parse(readFileSync(files.manifest, 'utf8')) as SnapshotManifest;
  const current = manifest.image_recipe_hash === image.recipe_hash && manifest.kernel === kernelRelease && manifest.initramfs_sha256 === sha256(vm.initramfs);
  return current ? manifest : null;
}

export interface SnapshotCreateOptions {
  /** argv that starts Firecracker (`--api-sock` is appended). */
  command: readonly string[];
  vm: VmPaths;
  image: ImageManifest;
  kernelRelease: string;
  disk: string;
  /** Boot configuration, as for a cold boot of this image. */
  boot: (dir: string) => MicroVmBootConfig;
  limits: Limits;
  memoryMib: number;
}

/** The guest's init prints this on the console when it listens for the host: the moment to snapshot. */
const GUEST_WAITING = /runner-vminit: waiting for the host/;

/**
 * Makes an image's snapshot: boots a VM like any other, waits until the guest's init listens for
 * the host (nothing of any execution has happened yet), pauses it, has Firecracker write the VM
 * state and memory, and stops it. Restores then skip the boot; each gets its own vsock path, and
 * the hello line refreshes its clock and entropy (see runner-vminit).
 */
export async function makeSnapshot(host: VmHost, options: SnapshotCreateOptions): Promise<SnapshotManifest> {
  const files = snapshotFiles(options.vm, options.image.id);
  const vmm = await launchVmm(host, options.limits, 'firecracker', (dir) => [...options.command, '--api-sock', join(dir, 'api.sock')]);
  let console = '';
  const waiting = new Promise<void>((resolve, reject) => {
    const watch = (chunk: Buffer): void => {
      console = (console + chunk.toString('utf8')).slice(-16_384);
      if (GUEST_WAITING.test(console)) resolve();
    };
    vmm.child.stdout!.on('data', watch);
    vmm.child.stderr!.on('data', watch);
    vmm.child.once('exit', () => reject(new SandboxError(ErrorCodes.SANDBOX_START, `the VM exited before its guest listened: ${console.trim().split('\n').slice(-3).join(' | ')}`)));
  });
  const timeout = setTimeout(() => vmm.child.kill('SIGKILL'), host.startTimeoutMs);
  try {
    const apiSocket = join(vmm.dir, 'api.sock');
    for (let i = 0; !existsSync(apiSocket); i++) {
      if (vmm.child.exitCode !== null || i > host.startTimeoutMs / 10) throw new SandboxError(ErrorCodes.SANDBOX_START, 'firecracker did not open its API socket');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const client = new FirecrackerApiClient({ socketPath: apiSocket, timeoutMs: 30_000 });
    try {
      await bootMicroVm(client, options.boot(vmm.dir));
      await waiting;
      // Firecracker (as the VM's uid) writes into the VM's own directory; moved into place below.
      await createSnapshot(client, { snapshot_type: 'Full', snapshot_path: join(vmm.dir, 'vmstate'), mem_file_path: join(vmm.dir, 'memory') });
    } finally {
      await client.close();
    }
    await rm(files.dir, { recursive: true, force: true });
    await mkdir(files.dir, { recursive: true });
    for (const [from, to] of [
      [join(vmm.dir, 'vmstate'), files.vmstate],
      [join(vmm.dir, 'memory'), files.memory],
    ] as const) {
      await rename(from, to);
      // Read by every restoring VM's uid; written by none.
      await chown(to, 0, 0);
      await chmod(to, 0o644);
    }
    const manifest: SnapshotManifest = {
      image: options.image.id,
      image_recipe_hash: options.image.recipe_hash,
      kernel: options.kernelRelease,
      initramfs_sha256: sha256(options.vm.initramfs),
      memory_mib: options.memoryMib,
      created_at: new Date().toISOString(),
    };
    await writeFile(files.manifest, JSON.stringify(manifest, null, 2) + '\n');
    return manifest;
  } finally {
    clearTimeout(timeout);
    waiting.catch(() => undefined);
    const exited = new Promise((resolve) => vmm.child.once('close', resolve));
    await vmm.cgroup.destroy();
    vmm.child.kill('SIGKILL');
    if (vmm.child.exitCode === null && vmm.child.signalCode === null) await exited;
    await vmm.cleanup();
  }
}
