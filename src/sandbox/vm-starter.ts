import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { SandboxSlot } from './launched-sandbox.js';
import { launchArgs } from './launch.js';
import { makeVmDir } from './vm-dirs.js';

/** One VM's identity on the host: its name, its own uid (also its gid), and its cgroup. */
export type VmIdentity = SandboxSlot;

/** What starting a VMM directly needs of the host. */
export interface VmHost {
  launcherPath: string;
  /** Parent of the per-VM private directories. */
  runDir: string;
  kvmGroup?: number;
}

/**
 * How a VMM process is started: directly through runner-launch (directStarter), or under a
 * privileged launcher of the VMM's own (Firecracker's jailer).
 */
export interface VmmStarter {
  /** Makes the VM's private directory (where the VMM's sockets appear on the host) and returns it. */
  prepare(vm: VmIdentity): Promise<string>;
  /** The argv the host runs, as root, to start the VMM as the VM's uid inside its cgroup. */
  command(vm: VmIdentity, dir: string): string[];
  /** Removes what prepare made and the VMM left there; called once every process of the VM is gone. */
  remove(vm: VmIdentity): Promise<void>;
}

/**
 * The VMM `argv(dir)` through runner-launch (join the cgroup, drop to the VM's uid, no_new_privs,
 * die with the parent), its private directory `<runDir>/<name>`.
 */
export function directStarter(host: VmHost, argv: (dir: string) => string[]): VmmStarter {
  const dirOf = (vm: VmIdentity): string => join(host.runDir, vm.name);
  return {
    prepare: async (vm) => {
      await makeVmDir(dirOf(vm), vm.uid);
      return dirOf(vm);
    },
    command: (vm, dir) => [host.launcherPath, ...kvmGroupArgs(host), ...launchArgs({ cgroupProcsFiles: vm.cgroup.procsFiles, hostUid: vm.uid, hostGid: vm.uid }), ...argv(dir)],
    remove: (vm) => rm(dirOf(vm), { recursive: true, force: true }),
  };
}

/**
 * SECURITY: the trade-off of the kvm group. Only VMM processes get it (never bwrap sandboxes,
 * never a guest's program, which runs inside the VM), as their one supplementary group; on a stock
 * Debian host the kvm group owns /dev/kvm and nothing else, and group 0 is never given (judgeKvm,
 * runner-launch). What it adds: a process that escaped a guest into its VMM could open /dev/kvm
 * again — which that VMM holds open anyway — to make VMs bounded by the same cgroup. Passing the
 * host's open descriptor instead is not possible: QEMU (7.2: no fd property on -accel kvm) and
 * Firecracker open /dev/kvm by path themselves.
 */
function kvmGroupArgs(host: VmHost): string[] {
  return host.kvmGroup === undefined ? [] : ['--supplementary-group', String(host.kvmGroup)];
}
