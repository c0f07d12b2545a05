import { join } from 'node:path';
import { ErrorCodes, SandboxError } from '../../errors.js';
import type { CgroupDriver } from '../cgroup/types.js';
import { directStarter, type VmHost, type VmmStarter } from '../vm-starter.js';
import { jailedStarter, removeStaleJails, type JailerConfig } from './jailer.js';

/** Names of a VM's files as Firecracker knows them (chroot-relative under the jailer). */
export const FIRECRACKER_FILES = {
  kernel: 'vmlinux',
  initramfs: 'initramfs',
  disk: 'rootfs.ext4',
  api: 'api.sock',
  vsock: 'vsock.sock',
  vmstate: 'vmstate',
  memory: 'memory',
} as const;

/** Host files one Firecracker process reads (kernel, initramfs, disk, snapshot), by the name it knows them by. */
export type FirecrackerInputs = Readonly<Record<string, string>>;

/** How one Firecracker process names its files, and where the host finds them. */
export interface FirecrackerPaths {
  /** The path Firecracker is given for an input (by its name) or for a file it makes in its directory. */
  vmm(name: string): string;
  /** The host's path of a file Firecracker makes in its directory (a socket, a snapshot). */
  host(name: string): string;
}

/** Starts Firecracker processes: directly (runner-launch) or under the jailer. */
export interface FirecrackerLauncher {
  /** Whether Firecracker runs in a chroot (its paths are chroot-relative; so are its snapshots'). */
  readonly jailed: boolean;
  /** A starter for one Firecracker reading `inputs`, run with `args(vmm)` after the binary (`vmm` names its files as FirecrackerPaths.vmm). */
  starter(inputs: FirecrackerInputs, args: (vmm: FirecrackerPaths['vmm']) => string[]): VmmStarter;
  /** The paths of the Firecracker whose private directory is `dir`. */
  paths(dir: string, inputs: FirecrackerInputs): FirecrackerPaths;
}

/** Firecracker through runner-launch: it is given host paths, and its directory is `<runDir>/<name>`. */
export function directLauncher(host: VmHost, command: readonly string[]): FirecrackerLauncher {
  const paths = (dir: string, inputs: FirecrackerInputs): FirecrackerPaths => ({
    vmm: (name) => inputs[name] ?? join(dir, name),
    host: (name) => join(dir, name),
  });
  return {
    jailed: false,
    paths,
    starter: (inputs, args) => directStarter(host, (dir) => [...command, ...args(paths(dir, inputs).vmm)]),
  };
}

/**
 * Firecracker under its jailer (jailer.ts): every input is hard-linked into the chroot as
 * `/<name>`, and the files it makes are at `/<name>` too. The binary is the one file the jailer
 * copies in and execs, so `command` must be just its path.
 */
export function jailedLauncher(cgroups: CgroupDriver, config: JailerConfig, command: readonly string[]): FirecrackerLauncher {
  if (command.length !== 1) throw new SandboxError(ErrorCodes.HOST_DEPENDENCY, `the jailer runs a Firecracker binary, not a command line (${command.join(' ')})`);
  removeStaleJails(config.chrootBase);
  // Inside the chroot every file is /<name>, whatever the chroot's host path.
  const inChroot = (name: string): string => `/${name}`;
  return {
    jailed: true,
    paths: (dir) => ({ vmm: inChroot, host: (name) => join(dir, name) }),
    starter: (inputs, args) => jailedStarter(config, command[0]!, cgroups, inputs, args(inChroot)),
  };
}
