import type { Socket } from 'node:net';
import type { ImageManifest } from '../../images/manifest.js';
import type { VmPaths } from '../../images/vm/paths.js';
import type { SandboxSpec } from '../backend.js';
import type { SandboxLiveness } from '../launched-sandbox.js';
import type { Limits } from '../limits.js';
import { requireDisk, VmBackend, type LaunchedVm, type VmHostOptions } from '../vm-backend.js';
import { guestMemoryMib } from '../vm-memory.js';
import type { VmmStarter } from '../vm-starter.js';
import { bootMicroVm, restoreSnapshot } from './api-flows.js';
import { connectAgent, withApi } from './connect.js';
import type { JailerConfig } from './jailer.js';
import { directLauncher, FIRECRACKER_FILES, jailedLauncher, type FirecrackerLauncher, type FirecrackerPaths } from './launcher.js';
import { bootConfig, bootPlan, firecrackerArgs, restoreConfig, restorePlan, type FirecrackerPlan } from './plan.js';
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

/**
 * Firecracker backend: one Firecracker process per sandbox, unprivileged and in the sandbox's
 * cgroup like every VMM here (under the jailer, also chrooted and in a PID namespace of its own),
 * configured through its API socket (boot-source with the same vmlinux and initramfs as QEMU, the
 * image's disk read-only, machine-config, vsock, InstanceStart — or a snapshot restore), and the
 * agent reached over host-initiated vsock (`CONNECT 5000`).
 */
export class FirecrackerBackend extends VmBackend<FirecrackerPlan> {
  readonly name = 'firecracker';
  readonly #options: FirecrackerBackendOptions;
  readonly #launcher: FirecrackerLauncher;

  constructor(options: FirecrackerBackendOptions) {
    super(options, 10_000);
    this.#options = options;
    this.#launcher = options.jailer ? jailedLauncher(this.cgroups, options.jailer, options.command) : directLauncher(this.vmHost, options.command);
  }

  /** Whether Firecracker runs under the jailer (snapshots made one way restore only that way). */
  get jailed(): boolean {
    return this.#launcher.jailed;
  }

  protected plan(spec: SandboxSpec): FirecrackerPlan {
    const o = this.#options;
    const disk = requireDisk(o.vm, spec.image);
    const snapshot = o.snapshotFor?.(spec.image) ?? null;
    return snapshot ? restorePlan(snapshot, disk, spec.limits) : bootPlan(o.vm, disk, spec.limits);
  }

  protected starter(plan: FirecrackerPlan): VmmStarter {
    return this.#launcher.starter(plan.inputs, firecrackerArgs);
  }

  /** Boots the VM (or restores its snapshot) through the API socket, then connects to its agent. */
  protected async connectGuest(vm: LaunchedVm<FirecrackerPlan>, live: SandboxLiveness): Promise<Socket> {
    const paths = this.#paths(vm);
    const { plan } = vm;
    await withApi({ host: paths.host(FIRECRACKER_FILES.api), uid: vm.uid }, live, (client) => (plan.snapshot ? restoreSnapshot(client, restoreConfig(paths)) : bootMicroVm(client, bootConfig(paths, plan.limits))));
    return connectAgent({ host: paths.host(FIRECRACKER_FILES.vsock), uid: vm.uid }, live);
  }

  /** Boots the image once and snapshots it as it waits for the host (see snapshot.ts). */
  async snapshot(image: ImageManifest, kernelRelease: string, limits: Limits): Promise<SnapshotManifest> {
    const o = this.#options;
    const vm = await this.launch(limits, bootPlan(o.vm, requireDisk(o.vm, image.id), limits));
    try {
      return await makeSnapshot(vm, {
        paths: this.#paths(vm),
        jailed: this.#launcher.jailed,
        vm: o.vm,
        image,
        kernelRelease,
        memoryMib: guestMemoryMib(limits),
        startTimeoutMs: this.startTimeoutMs,
      });
    } finally {
      await this.release(vm);
    }
  }

  #paths(vm: LaunchedVm<FirecrackerPlan>): FirecrackerPaths {
    return this.#launcher.paths(vm.run.dir, vm.plan.inputs);
  }
}
