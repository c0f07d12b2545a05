import { chmodSync, existsSync, linkSync, mkdirSync, readdirSync, realpathSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ErrorCodes, SandboxError } from '../../errors.js';
import type { CgroupDriver, CgroupSetting } from '../cgroup/types.js';
import { removeStaleVmDirs } from '../vm-dirs.js';
import type { VmIdentity, VmmStarter } from '../vm-starter.js';

/**
 * Firecracker under its jailer, the production mode Firecracker documents (docs/jailer.md): the
 * jailer, as root, builds a chroot with pivot_root in a new mount namespace, joins the VM's
 * cgroup, mknods /dev/kvm, drops to the VM's uid and gid, and execs Firecracker as PID 1 of a new
 * PID namespace. Everything Firecracker opens must be inside the chroot: the host hard-links the
 * kernel, initramfs, disk and snapshot files in first, and every path Firecracker is given is
 * chroot-relative.
 */

export interface JailerConfig {
  /** The jailer binary, of the same release as Firecracker. */
  jailerPath: string;
  /**
   * `--chroot-base-dir`. It must be on the file system of the VM files (they are hard-linked in,
   * never copied) and not mounted nodev (the jailer mknods /dev/kvm in each chroot).
   */
  chrootBase: string;
  /** runner-reaper, which holds the VM's processes once the jailer has exited (agent/src/reaper.c). */
  reaperPath: string;
}

export interface JailPlan {
  /** The jailer's `--id`: the sandbox name. */
  id: string;
  /** The Firecracker binary; the jailer copies it into the chroot. */
  execFile: string;
  uid: number;
  gid: number;
  chrootBase: string;
  cgroupVersion: 1 | 2;
  /** Where the VM's cgroup is: `<controller root>/<parentCgroup>/<id>`. */
  parentCgroup: string;
  /** Written by the jailer before it joins: the values the VM's cgroup already holds. */
  cgroupSettings: readonly CgroupSetting[];
  /** Firecracker's own arguments, after the jailer's `--`. */
  firecrackerArgs: readonly string[];
}

/** The jailer's rules for `--id` (alphanumerics and hyphens, at most 64). */
const JAILER_ID = /^[A-Za-z0-9-]{1,64}$/;

/**
 * The jailer's arguments. `--new-pid-ns`: Firecracker is PID 1 of its own namespace and sees no
 * host process. No `--daemonize`: the guest console stays on the stdout the host reads.
 */
export function jailerArgs(plan: JailPlan): string[] {
  if (!JAILER_ID.test(plan.id)) throw new SandboxError(ErrorCodes.SANDBOX_START, `'${plan.id}' is not a valid jailer id`);
  return [
    '--id', plan.id,
    '--exec-file', plan.execFile,
    '--uid', String(plan.uid),
    '--gid', String(plan.gid),
    '--chroot-base-dir', plan.chrootBase,
    '--cgroup-version', String(plan.cgroupVersion),
    '--parent-cgroup', plan.parentCgroup,
    ...plan.cgroupSettings.flatMap(({ file, value }) => ['--cgroup', `${file}=${value}`]),
    '--new-pid-ns',
    '--',
    ...plan.firecrackerArgs,
  ];
}

/**
 * The jailer's directory for one VM, `<base>/<exec file name>/<id>`; the chroot is its `root`. The
 * jailer names it after the binary's real file (it resolves links), and that name must contain
 * `firecracker`.
 */
export function jailDir(chrootBase: string, execFile: string, id: string): string {
  return join(chrootBase, jailExecName(execFile), id);
}

function jailExecName(execFile: string): string {
  const name = basename(realpathSync(execFile));
  if (!name.includes('firecracker')) {
    throw new SandboxError(ErrorCodes.HOST_DEPENDENCY, `the jailer runs only a binary whose file name contains 'firecracker' (${execFile} is '${name}')`, {
      hint: 'register the binary from the release archive as it is named there (`setup --vm --firecracker PATH`)',
    });
  }
  return name;
}

/**
 * A starter for one jailed Firecracker. prepare() makes the chroot (root-owned until the jailer
 * hands it to the VM's uid) and hard-links `inputs` (file name → host path) into it, so Firecracker
 * finds each as `/<name>`; the host runs runner-reaper, which runs the jailer; remove() deletes the
 * VM's whole jail directory.
 */
export function jailedStarter(config: JailerConfig, firecracker: string, cgroups: CgroupDriver, inputs: Readonly<Record<string, string>>, firecrackerArgs: readonly string[]): VmmStarter {
  const dirOf = (vm: VmIdentity): string => jailDir(config.chrootBase, firecracker, vm.name);
  return {
    prepare: async (vm) => {
      // Traversable, not listable, like the run dir: each chroot itself is 0700 and its VM's.
      for (const dir of [config.chrootBase, dirname(dirOf(vm)), dirOf(vm)]) {
        mkdirSync(dir, { recursive: true, mode: 0o711 });
        chmodSync(dir, 0o711);
      }
      const root = join(dirOf(vm), 'root');
      mkdirSync(root, { mode: 0o700 });
      for (const [name, hostPath] of Object.entries(inputs)) linkInto(root, name, hostPath, config.chrootBase);
      return root;
    },
    command: (vm) => [
      config.reaperPath,
      '--',
      config.jailerPath,
      ...jailerArgs({
        id: vm.name,
        execFile: firecracker,
        uid: vm.uid,
        gid: vm.uid,
        chrootBase: config.chrootBase,
        cgroupVersion: cgroups.version,
        parentCgroup: cgroups.parent,
        cgroupSettings: vm.cgroup.settings(),
        firecrackerArgs,
      }),
    ],
    remove: (vm) => rm(dirOf(vm), { recursive: true, force: true }),
  };
}

/** Hard-links a shared, root-owned, read-only file into a chroot (a copy of a disk would cost seconds). */
function linkInto(root: string, name: string, hostPath: string, chrootBase: string): void {
  try {
    linkSync(hostPath, join(root, name));
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw new SandboxError(
      ErrorCodes.SANDBOX_START,
      code === 'EXDEV' ? `cannot hard-link ${hostPath} into the jail: ${chrootBase} is on another file system` : `cannot link ${hostPath} into the jail: ${(cause as Error).message}`,
      { cause, hint: 'keep the jail directory on the file system of the data dir (RUNNER_CODES_HOME)' },
    );
  }
}

/** Removes the jails of VMs whose owning process died (a crash), for every binary name. */
export function removeStaleJails(chrootBase: string): void {
  if (!existsSync(chrootBase)) return;
  for (const exec of readdirSync(chrootBase)) removeStaleVmDirs(join(chrootBase, exec));
}
