import type { Limits } from '../limits.js';
import type { ImageManifest } from '../../images/manifest.js';
import type { VmPaths } from '../../images/vm/paths.js';
import type { Backend, Sandbox, SandboxSpec } from '../backend.js';
import { guestMemoryMib, openVmHost, requireDisk, startVm, VM_FIXED_AT_START, type VmHost, type VmHostOptions } from '../vm-sandbox.js';
import { bootMicroVm, restoreSnapshot, type MicroVmBootConfig } from './api-flows.js';
import type { JailerConfig } from './jailer.js';
import { AGENT_VSOCK_PORT, connectAgent, withApi } from './connect.js';
import { directLauncher, FIRECRACKER_FILES, jailedLauncher, type FirecrackerInputs, type FirecrackerLauncher, type FirecrackerPaths } from './launcher.js';
import { makeSnapshot } from './snapshot.js';
import type { SnapshotFiles, SnapshotManifest } from './snapshot-manifest.js';

export interface FirecrackerBackendOptions extends VmHostOptions {
  /** How to start Firecracker: its binary (and, without the jailer, any leading arguments); `--api-sock` is appended. */
  command: readonly string[];
  /** Run Firecracker under its jailer (the production mode); without it, through runner-launch. */
  jailer?: JailerConfig;
  vm: VmPaths;
  /** The image's current snapshot to restore instead of booting, if it has one. */
  snapshotFor?: (image: string) => SnapshotFiles | null;
}

/** The guest's vsock address; each VM has its own device, so every VM can use the same one. */
const GUEST_CID = 3;

/**
 * Firecracker backend: one Firecracker process per sandbox, unprivileged and in the sandbox's
 * cgroup like every VMM here (under the jailer, also chrooted and in a PID namespace of its own),
 * configured through its API socket (boot-source with the same vmlinux and initramfs as QEMU, the
 * image's disk read-only, machine-config, vsock, InstanceStart), and the agent reached over
 * host-initiated vsock (`CONNECT 5000`).
 */
export class FirecrackerBackend implements Backend {
  readonly name = 'firecracker';
  readonly fixedAtStart = VM_FIXED_AT_START;
  readonly #options: FirecrackerBackendOptions;
  readonly #host: VmHost;
  readonly #launcher: FirecrackerLauncher;

  constructor(options: FirecrackerBackendOptions) {
    this.#options = options;
    this.#host = openVmHost(options, 10_000);
    this.#launcher = options.jailer ? jailedLauncher(this.#host, options.jailer, options.command) : directLauncher(this.#host, options.command);
  }

  /** Whether Firecracker runs under the jailer (snapshots made one way restore only that way). */
  get jailed(): boolean {
    return this.#launcher.jailed;
  }

  start(spec: SandboxSpec): Promise<Sandbox> {
    const o = this.#options;
    const disk = requireDisk(o.vm, spec.image);
    const snapshot = o.snapshotFor?.(spec.image) ?? null;
    // A snapshot names the disk as it was given when the snapshot was made: the same name here.
    const inputs: FirecrackerInputs = snapshot
      ? { [FIRECRACKER_FILES.disk]: disk, [FIRECRACKER_FILES.vmstate]: snapshot.vmstate, [FIRECRACKER_FILES.memory]: snapshot.memory }
      : bootInputs(o.vm, disk);
    const starter = this.#launcher.starter(inputs, firecrackerArgs);
    return startVm(this.#host, spec.limits, 'firecracker', starter, (vmm) => {
      const paths = this.#launcher.paths(vmm.dir, inputs);
      const vsock = { host: paths.host(FIRECRACKER_FILES.vsock), uid: vmm.uid };
      const api = { host: paths.host(FIRECRACKER_FILES.api), uid: vmm.uid };
      if (snapshot) {
        const restore = { snapshotPath: paths.vmm(FIRECRACKER_FILES.vmstate), memory: { backend_type: 'File' as const, backend_path: paths.vmm(FIRECRACKER_FILES.memory) }, vsockUdsPath: paths.vmm(FIRECRACKER_FILES.vsock) };
        return async (live) => {
          await withApi(api, live, (client) => restoreSnapshot(client, restore));
          return connectAgent(vsock, live);
        };
      }
      const config = bootConfig(paths, spec.limits);
      return async (live) => {
        await withApi(api, live, (client) => bootMicroVm(client, config));
        return connectAgent(vsock, live);
      };
    });
  }

  /** Boots the image once and snapshots it as it waits for the host (see snapshot.ts). */
  snapshot(image: ImageManifest, kernelRelease: string, limits: Limits): Promise<SnapshotManifest> {
    const o = this.#options;
    const disk = requireDisk(o.vm, image.id);
    const inputs = bootInputs(o.vm, disk);
    return makeSnapshot(this.#host, {
      starter: this.#launcher.starter(inputs, firecrackerArgs),
      paths: (dir) => this.#launcher.paths(dir, inputs),
      jailed: this.#launcher.jailed,
      vm: o.vm,
      image,
      kernelRelease,
      limits,
      memoryMib: guestMemoryMib(limits),
      boot: (paths) => bootConfig(paths, limits),
    });
  }
}

/** Firecracker's own arguments: its API socket in its directory. */
const firecrackerArgs = (vmm: FirecrackerPaths['vmm']): string[] => ['--api-sock', vmm(FIRECRACKER_FILES.api)];

/** What a cold boot reads: the shared vmlinux and initramfs, and the image's disk. */
function bootInputs(vm: VmPaths, disk: string): FirecrackerInputs {
  return { [FIRECRACKER_FILES.kernel]: vm.vmlinux, [FIRECRACKER_FILES.initramfs]: vm.initramfs, [FIRECRACKER_FILES.disk]: disk };
}

/** A cold boot of an image: the shared vmlinux and initramfs, the image's disk read-only, vsock. */
function bootConfig(paths: FirecrackerPaths, limits: Limits): MicroVmBootConfig {
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

