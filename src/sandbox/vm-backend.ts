import { existsSync } from 'node:fs';
import type { Socket } from 'node:net';
import { ErrorCodes, SandboxError } from '../errors.js';
import { diskPath, type VmPaths } from '../images/vm/paths.js';
import type { CgroupDriver, CgroupLimits } from './cgroup/types.js';
import { helloLine } from './guest-hello.js';
import type { HostIdRange } from './host-ids.js';
import type { AgentStreams, LaunchedSandbox, SandboxLiveness, SandboxSlot } from './launched-sandbox.js';
import type { Limits } from './limits.js';
import { ProcessBackend, type SandboxCommand } from './process-backend.js';
import { removeStaleVmDirs } from './vm-dirs.js';
import { VM_FIXED_AT_START, vmCgroupLimits } from './vm-memory.js';
import type { VmHost, VmmStarter } from './vm-starter.js';

/** Options every VM backend takes. */
export interface VmHostOptions {
  launcherPath: string;
  cgroups: CgroupDriver;
  /** Host uids VMMs run as, one per live VM (the same block as bwrap sandboxes). */
  hostIds: HostIdRange;
  /** Parent of the per-VM private directories (sockets). */
  runDir: string;
  /** Boot-to-agent-ready budget. */
  startTimeoutMs?: number;
  /**
   * The one supplementary group a VMM started through runner-launch gets: /dev/kvm's group, where
   * the device is open only to its group (Debian's udev: 0660 root:kvm); unset for a VMM that does
   * not use KVM. Otherwise VMMs get no supplementary group at all.
   */
  kvmGroup?: number;
}

/** What a VM's later hooks know of it besides its plan: its private directory (where its sockets appear). */
export interface VmRun {
  dir: string;
}

/** One started VMM, as a VM backend's connectGuest() sees it. */
export type LaunchedVm<Plan> = LaunchedSandbox<Plan, VmRun>;

/**
 * The base of the VM backends: ProcessBackend with a VMM as the process. The cgroup bounds the
 * whole VM (vmCgroupLimits), the VMM runs from a private directory its starter makes and removes,
 * and the agent's stream, once connectGuest() has it, first carries the host's hello line. A VM
 * backend fills in plan(), starter() and connectGuest().
 */
export abstract class VmBackend<Plan> extends ProcessBackend<Plan, VmRun> {
  readonly kind = 'VM';
  /** The guest's RAM and tmpfs sizes are fixed at boot; only the cgroup around the VMM follows applyLimits. */
  readonly fixedAtStart = VM_FIXED_AT_START;
  protected readonly vmHost: VmHost;

  /** Sets up the host side, first removing what crashed owners left. */
  constructor(options: VmHostOptions, defaultStartTimeoutMs: number) {
    super({ cgroups: options.cgroups, hostIds: options.hostIds, startTimeoutMs: options.startTimeoutMs ?? defaultStartTimeoutMs });
    removeStaleVmDirs(options.runDir);
    this.vmHost = { launcherPath: options.launcherPath, runDir: options.runDir, ...(options.kvmGroup !== undefined ? { kvmGroup: options.kvmGroup } : {}) };
  }

  /** Hook: how this VM's VMM is started (directly through runner-launch, or under a jailer). */
  protected abstract starter(plan: Plan): VmmStarter;
  /** Hook: the stream to the guest's agent (virtio-serial through a Unix socket, or vsock), once the guest listens. */
  protected abstract connectGuest(vm: LaunchedVm<Plan>, live: SandboxLiveness): Promise<Socket>;

  protected async command(slot: SandboxSlot, plan: Plan): Promise<SandboxCommand<VmRun>> {
    const starter = this.starter(plan);
    const dir = await starter.prepare(slot);
    return { argv: starter.command(slot, dir), agentOnStdio: false, run: { dir } };
  }

  async connect(vm: LaunchedVm<Plan>, live: SandboxLiveness): Promise<AgentStreams> {
    const socket = await this.connectGuest(vm, live);
    socket.write(helloLine());
    return { fromAgent: socket, toAgent: socket, close: () => socket.destroy() };
  }

  override cgroupLimits(limits: Limits): CgroupLimits {
    return vmCgroupLimits(limits);
  }

  /** Kernel log lines are noise unless they say what went wrong; the init's own lines are kept. */
  override explain(line: string): boolean {
    return !/^\[\s*\d/.test(line) || /panic|error|fail/i.test(line);
  }

  protected override cleanup(slot: SandboxSlot, plan: Plan): Promise<void> {
    return this.starter(plan).remove(slot);
  }
}

/** The language image's read-only root disk, or an error naming the setup step that makes it. */
export function requireDisk(vm: VmPaths, image: string): string {
  const disk = diskPath(vm, image);
  if (!existsSync(disk)) {
    throw new SandboxError(ErrorCodes.IMAGE_MISSING, `no VM disk for image '${image}'`, { hint: 'run `infra.operator setup --vm --lang <language>`' });
  }
  return disk;
}
