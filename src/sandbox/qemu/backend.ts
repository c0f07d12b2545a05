import type { Socket } from 'node:net';
import { join } from 'node:path';
import type { VmPaths } from '../../images/vm/paths.js';
import type { SandboxSpec } from '../backend.js';
import type { SandboxLiveness } from '../launched-sandbox.js';
import { connectWhenListening } from '../wait-for-socket.js';
import { requireDisk, VmBackend, type LaunchedVm, type VmHostOptions } from '../vm-backend.js';
import { guestMemoryMib } from '../vm-memory.js';
import { directStarter, type VmmStarter } from '../vm-starter.js';
import type { GuestClock } from './guest-clock.js';
import { AGENT_SOCKET, qemuArgs, type QemuPlan } from './plan.js';

export interface QemuBackendOptions extends VmHostOptions {
  qemuPath: string;
  vm: VmPaths;
  accel: 'kvm' | 'tcg';
  clock: GuestClock;
}

/** A QEMU VM's plan before it has a directory (the agent's socket is made in it). */
type QemuStart = Omit<QemuPlan, 'agentSocket'>;

/**
 * QEMU `microvm` backend: one VM per sandbox, booting Debian's cloud kernel into runner-vminit,
 * which hands the language image's read-only disk and the virtio-serial port to runner-agent.
 * QEMU itself runs unprivileged (its own host uid, as bwrap sandboxes do) inside a cgroup that
 * bounds the whole VM; the guest's memory is the execution's memory limit.
 */
export class QemuBackend extends VmBackend<QemuStart> {
  readonly name = 'qemu';
  readonly #options: QemuBackendOptions;

  constructor(options: QemuBackendOptions) {
    // Under emulation a boot takes seconds, and QEMU opens no /dev/kvm: no group for it.
    const { kvmGroup: _kvmGroup, ...emulated } = options;
    super(options.accel === 'kvm' ? options : emulated, options.accel === 'kvm' ? 10_000 : 60_000);
    this.#options = options;
  }

  protected plan(spec: SandboxSpec): QemuStart {
    const o = this.#options;
    return {
      kernel: o.vm.vmlinuz,
      initramfs: o.vm.initramfs,
      disk: requireDisk(o.vm, spec.image),
      memoryMib: guestMemoryMib(spec.limits),
      tmpfsBytes: spec.limits.diskBytes,
      accel: o.accel,
      ...o.clock,
    };
  }

  protected starter(plan: QemuStart): VmmStarter {
    return directStarter(this.vmHost, (dir) => [this.#options.qemuPath, ...qemuArgs({ ...plan, agentSocket: join(dir, AGENT_SOCKET) })]);
  }

  /** QEMU creates the socket while it starts; the guest's agent answers once booted. */
  protected connectGuest(vm: LaunchedVm<QemuStart>, live: SandboxLiveness): Promise<Socket> {
    return connectWhenListening(join(vm.run.dir, AGENT_SOCKET), vm.uid, live);
  }
}
