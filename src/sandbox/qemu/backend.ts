import { join } from 'node:path';
import type { VmPaths } from '../../images/vm/paths.js';
import type { Backend, Sandbox, SandboxSpec } from '../backend.js';
import { connectWhenListening, directStarter, guestMemoryMib, openVmHost, requireDisk, startVm, VM_FIXED_AT_START, type VmHost, type VmHostOptions } from '../vm-sandbox.js';
import type { GuestClock } from './guest-clock.js';
import { qemuArgs, type QemuPlan } from './plan.js';

export interface QemuBackendOptions extends VmHostOptions {
  qemuPath: string;
  vm: VmPaths;
  accel: 'kvm' | 'tcg';
  clock: GuestClock;
}

/**
 * QEMU `microvm` backend: one VM per sandbox, booting Debian's cloud kernel into runner-vminit,
 * which hands the language image's read-only disk and the virtio-serial port to runner-agent.
 * QEMU itself runs unprivileged (its own host uid, as bwrap sandboxes do) inside a cgroup that
 * bounds the whole VM; the guest's memory is the execution's memory limit.
 */
export class QemuBackend implements Backend {
  readonly name = 'qemu';
  readonly fixedAtStart = VM_FIXED_AT_START;
  readonly #options: QemuBackendOptions;
  readonly #host: VmHost;

  constructor(options: QemuBackendOptions) {
    this.#options = options;
    // Under emulation a boot takes seconds, and QEMU opens no /dev/kvm: no group for it.
    const { kvmGroup: _kvmGroup, ...emulated } = options;
    this.#host = options.accel === 'kvm' ? openVmHost(options, 10_000) : openVmHost(emulated, 60_000);
  }

  start(spec: SandboxSpec): Promise<Sandbox> {
    const o = this.#options;
    const disk = requireDisk(o.vm, spec.image);
    const agentSocket = (dir: string): string => join(dir, 'agent.sock');
    const plan = (dir: string): QemuPlan => ({
      kernel: o.vm.vmlinuz,
      initramfs: o.vm.initramfs,
      disk,
      agentSocket: agentSocket(dir),
      memoryMib: guestMemoryMib(spec.limits),
      tmpfsBytes: spec.limits.diskBytes,
      accel: o.accel,
      ...o.clock,
    });
    // QEMU creates the socket while it starts; the guest's agent answers once booted.
    const starter = directStarter(this.#host, (dir) => [o.qemuPath, ...qemuArgs(plan(dir))]);
    return startVm(this.#host, spec.limits, 'qemu', starter, (vmm) => (live) => connectWhenListening(agentSocket(vmm.dir), vmm.uid, live));
  }
}
