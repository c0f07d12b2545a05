import { existsSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import type { Limits } from '../../engine/limits.js';
import type { ImageManifest } from '../../images/manifest.js';
import type { VmPaths } from '../../images/vm/paths.js';
import type { Backend, Sandbox, SandboxSpec } from '../backend.js';
import { guestMemoryMib, openVmHost, requireDisk, startVm, type VmHost, type VmHostOptions, type VmLiveness } from '../vm-sandbox.js';
import { FirecrackerApiClient } from './api-client.js';
import { bootMicroVm, restoreSnapshot, type MicroVmBootConfig } from './api-flows.js';
import { makeSnapshot, type SnapshotFiles, type SnapshotManifest } from './snapshot.js';
import { connectVsock } from './vsock.js';

export interface FirecrackerBackendOptions extends VmHostOptions {
  /** How to start Firecracker: its binary (and any leading arguments); `--api-sock` is appended. */
  command: readonly string[];
  vm: VmPaths;
  /** The image's current snapshot to restore instead of booting, if it has one. */
  snapshotFor?: (image: string) => SnapshotFiles | null;
}

/** The guest's agent listens here (runner-vminit's rc.vsock). */
export const AGENT_VSOCK_PORT = 5000;
/** The guest's vsock address; each VM has its own device, so every VM can use the same one. */
const GUEST_CID = 3;

/**
 * Firecracker backend: one Firecracker process per sandbox, unprivileged and in the sandbox's
 * cgroup like every VMM here, configured through its API socket (boot-source with the same
 * vmlinux and initramfs as QEMU, the image's disk read-only, machine-config, vsock, InstanceStart),
 * and the agent reached over host-initiated vsock (`CONNECT 5000`).
 */
export class FirecrackerBackend implements Backend {
  readonly name = 'firecracker';
  readonly #options: FirecrackerBackendOptions;
  readonly #host: VmHost;

  constructor(options: FirecrackerBackendOptions) {
    this.#options = options;
    this.#host = openVmHost(options, 10_000);
  }

  start(spec: SandboxSpec): Promise<Sandbox> {
    const o = this.#options;
    const disk = requireDisk(o.vm, spec.image);
    const snapshot = o.snapshotFor?.(spec.image) ?? null;
    return startVm(this.#host, spec.limits, 'firecracker', (dir) => {
      const apiSocket = join(dir, 'api.sock');
      const argv = [...o.command, '--api-sock', apiSocket];
      if (snapshot) return { argv, connect: (live) => restoreAndConnect(apiSocket, join(dir, 'vsock.sock'), snapshot, live) };
      const config = bootConfig(o.vm, disk, spec.limits, dir);
      return { argv, connect: (live) => bootAndConnect(apiSocket, config, live) };
    });
  }

  /** Boots the image once and snapshots it as it waits for the host (see snapshot.ts). */
  snapshot(image: ImageManifest, kernelRelease: string, limits: Limits): Promise<SnapshotManifest> {
    const o = this.#options;
    const disk = requireDisk(o.vm, image.id);
    return makeSnapshot(this.#host, {
      command: o.command,
      vm: o.vm,
      image,
      kernelRelease,
      disk,
      limits,
      memoryMib: guestMemoryMib(limits),
      boot: (dir) => bootConfig(o.vm, disk, limits, dir),
    });
  }
}

/** A cold boot of an image: the shared vmlinux and initramfs, the image's disk read-only, vsock. */
function bootConfig(vm: VmPaths, disk: string, limits: Limits, dir: string): MicroVmBootConfig {
  return {
    bootSource: {
      kernel_image_path: vm.vmlinux,
      initrd_path: vm.initramfs,
      boot_args: ['console=ttyS0', 'quiet', 'panic=-1', 'reboot=k', 'pci=off', 'rdinit=/init', `rc.vsock=${AGENT_VSOCK_PORT}`, `rc.tmpfs=${limits.diskBytes}`].join(' '),
    },
    drives: [{ drive_id: 'root', path_on_host: disk, is_root_device: true, is_read_only: true }],
    machine: { vcpu_count: 1, mem_size_mib: guestMemoryMib(limits) },
    vsock: { guest_cid: GUEST_CID, uds_path: join(dir, 'vsock.sock') },
  };
}

/** Configures and starts the VM through the API, then connects to the agent once the guest listens. */
async function bootAndConnect(apiSocket: string, config: MicroVmBootConfig, live: VmLiveness): Promise<Socket> {
  await withApi(apiSocket, live, (client) => bootMicroVm(client, config));
  return connectAgent(config.vsock.uds_path, live);
}

/**
 * Restores the image's snapshot on this fresh Firecracker process, resumed at once, its vsock on a
 * path of this VM's own; the guest is already listening, so the agent answers within milliseconds.
 */
async function restoreAndConnect(apiSocket: string, vsockSocket: string, snapshot: SnapshotFiles, live: VmLiveness): Promise<Socket> {
  await withApi(apiSocket, live, (client) =>
    restoreSnapshot(client, { snapshotPath: snapshot.vmstate, memory: { backend_type: 'File', backend_path: snapshot.memory }, vsockUdsPath: vsockSocket }),
  );
  return connectAgent(vsockSocket, live);
}

/** Waits for Firecracker's API socket, then runs `use` with a client on it. */
async function withApi(apiSocket: string, live: VmLiveness, use: (client: FirecrackerApiClient) => Promise<void>): Promise<void> {
  while (!existsSync(apiSocket)) {
    live.check();
    await pause(10);
  }
  const client = new FirecrackerApiClient({ socketPath: apiSocket });
  try {
    await use(client);
  } finally {
    await client.close();
  }
}

async function connectAgent(vsockSocket: string, live: VmLiveness): Promise<Socket> {
  // Until the guest's init listens on the port, Firecracker closes a CONNECT: try again.
  for (;;) {
    live.check();
    try {
      const timeoutMs = Math.max(100, Math.min(5000, live.deadline - Date.now()));
      return (await connectVsock({ udsPath: vsockSocket, port: AGENT_VSOCK_PORT, timeoutMs })).socket;
    } catch {
      await pause(50);
    }
  }
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
