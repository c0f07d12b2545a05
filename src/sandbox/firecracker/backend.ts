import { existsSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import type { VmPaths } from '../../images/vm/paths.js';
import type { Backend, Sandbox, SandboxSpec } from '../backend.js';
import { guestMemoryMib, openVmHost, requireDisk, startVm, type VmHost, type VmHostOptions, type VmLiveness } from '../vm-sandbox.js';
import { FirecrackerApiClient } from './api-client.js';
import { bootMicroVm, type MicroVmBootConfig } from './api-flows.js';
import { connectVsock } from './vsock.js';

export interface FirecrackerBackendOptions extends VmHostOptions {
  /** How to start Firecracker: its binary (and any leading arguments); `--api-sock` is appended. */
  command: readonly string[];
  vm: VmPaths;
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
    return startVm(this.#host, spec.limits, 'firecracker', (dir) => {
      const apiSocket = join(dir, 'api.sock');
      const vsockSocket = join(dir, 'vsock.sock');
      const config: MicroVmBootConfig = {
        bootSource: {
          kernel_image_path: o.vm.vmlinux,
          initrd_path: o.vm.initramfs,
          boot_args: ['console=ttyS0', 'quiet', 'panic=-1', 'reboot=k', 'pci=off', 'rdinit=/init', `rc.vsock=${AGENT_VSOCK_PORT}`, `rc.tmpfs=${spec.limits.diskBytes}`].join(' '),
        },
        drives: [{ drive_id: 'root', path_on_host: disk, is_root_device: true, is_read_only: true }],
        machine: { vcpu_count: 1, mem_size_mib: guestMemoryMib(spec.limits) },
        vsock: { guest_cid: GUEST_CID, uds_path: vsockSocket },
      };
      return { argv: [...o.command, '--api-sock', apiSocket], connect: (live) => bootAndConnect(apiSocket, vsockSocket, config, live) };
    });
  }
}

/** Configures and starts the VM through the API, then connects to the agent once the guest listens. */
async function bootAndConnect(apiSocket: string, vsockSocket: string, config: MicroVmBootConfig, live: VmLiveness): Promise<Socket> {
  while (!existsSync(apiSocket)) {
    live.check();
    await pause(10);
  }
  const client = new FirecrackerApiClient({ socketPath: apiSocket });
  try {
    await bootMicroVm(client, config);
  } finally {
    await client.close();
  }
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
