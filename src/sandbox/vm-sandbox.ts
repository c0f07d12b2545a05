import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { chmod, chown, mkdir, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import type { Limits } from './limits.js';
import { ErrorCodes, SandboxError } from '../errors.js';
import type { Sandbox } from './backend.js';
import { diskPath, type VmPaths } from '../images/vm/paths.js';
import { launchArgs } from './launch.js';
import type { Cgroup, CgroupDriver, CgroupLimits } from './cgroup/types.js';
import { HostIdAllocator, type HostIdRange } from './host-ids.js';
import { hostUidOf, isProcessAlive, ownerOf, sandboxName } from './names.js';
import { ProcessSandbox, type SandboxLiveness } from './process-sandbox.js';
import { holdVmSocket, type HeldSocket } from './vm-socket.js';

/** Guest RAM beyond the execution's memory limit: the guest kernel and its page cache. */
export const GUEST_KERNEL_MIB = 64;
/** Host memory a VMM needs beyond the guest's RAM (QEMU's TCG translation cache, device models). */
const VMM_OVERHEAD_BYTES = 192 * 1024 * 1024;

/**
 * What a VM takes at boot and keeps: its RAM (guestMemoryMib) and its tmpfs sizes (`rc.tmpfs=` on
 * the kernel command line). Only the cgroup around the VMM follows a later applyLimits.
 */
export const VM_FIXED_AT_START = ['memoryBytes', 'diskBytes'] as const satisfies readonly (keyof Limits)[];

/** The guest's RAM: the execution's memory limit, plus room for its kernel. */
export function guestMemoryMib(limits: Limits): number {
  return Math.ceil(limits.memoryBytes / (1024 * 1024)) + GUEST_KERNEL_MIB;
}

/** The cgroup bounds the whole VM: guest RAM plus the VMM's own memory, and the VMM's threads. */
export function vmCgroupLimits(limits: Limits): CgroupLimits {
  return { ...limits, memoryBytes: limits.memoryBytes + GUEST_KERNEL_MIB * 1024 * 1024 + VMM_OVERHEAD_BYTES, pids: 64 };
}

/**
 * Makes a VM's private directory (its sockets): owned by the VM's uid, 0700. The parent is
 * traversable but not listable, so VM uids cannot see each other's names.
 */
export async function makeVmDir(dir: string, uid: number): Promise<void> {
  const parent = dirname(dir);
  await mkdir(parent, { recursive: true, mode: 0o711 });
  await chmod(parent, 0o711);
  await mkdir(dir, { mode: 0o700 });
  await chown(dir, uid, uid);
}

/**
 * Removes the per-VM directories under `parent` whose owning process died (a crash). Their cgroups
 * are removed first (removeStaleSandboxes), so no process of those VMs is left to change them.
 */
export function removeStaleVmDirs(parent: string): void {
  if (!existsSync(parent)) return;
  for (const name of readdirSync(parent)) {
    const owner = ownerOf(name);
    if (owner !== undefined && !isProcessAlive(owner)) rmSync(join(parent, name), { recursive: true, force: true });
  }
}

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

/** Sets up the host side of a VM backend, first removing what crashed owners left. */
export function openVmHost(options: VmHostOptions, defaultStartTimeoutMs: number): VmHost {
  removeStaleVmDirs(options.runDir);
  return {
    launcherPath: options.launcherPath,
    cgroups: options.cgroups,
    ids: new HostIdAllocator(options.hostIds),
    runDir: options.runDir,
    startTimeoutMs: options.startTimeoutMs ?? defaultStartTimeoutMs,
    ...(options.kvmGroup !== undefined ? { kvmGroup: options.kvmGroup } : {}),
  };
}

/** What every VM backend needs from the host side. */
export interface VmHost {
  launcherPath: string;
  cgroups: CgroupDriver;
  ids: HostIdAllocator;
  /** Parent of the per-VM private directories. */
  runDir: string;
  startTimeoutMs: number;
  kvmGroup?: number;
}

/** One VM's identity on the host: its name, its own uid (also its gid), and its cgroup. */
export interface VmIdentity {
  name: string;
  uid: number;
  cgroup: Cgroup;
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

/** A VMM process started for one VM, with what must be undone when it is gone. */
export interface LaunchedVmm {
  name: string;
  /** The VM's private directory (its sockets). */
  dir: string;
  uid: number;
  /** The process the host started; it ends when the VMM does (its stdout and stderr carry the console). */
  child: ChildProcess;
  cgroup: Cgroup;
  /** Removes the directory and frees the uid; call once every process of the VM is gone. */
  cleanup: () => Promise<void>;
}

/**
 * Starts a VMM the way every sandbox starts: a host uid of its own, a cgroup bounding the whole VM,
 * a private directory for its sockets, then the starter's command. Undoes all of it if any step fails.
 */
export async function launchVmm(host: VmHost, limits: Limits, what: string, starter: VmmStarter): Promise<LaunchedVmm> {
  const uid = host.ids.acquire(() => host.cgroups.list().map(hostUidOf));
  const name = sandboxName(process.pid, uid);
  let vm: VmIdentity | undefined;
  const cleanup = async (): Promise<void> => {
    if (vm) await starter.remove(vm);
    host.ids.release(uid);
  };
  try {
    vm = { name, uid, cgroup: host.cgroups.create(name, vmCgroupLimits(limits)) };
    const dir = await starter.prepare(vm);
    const [command, ...args] = starter.command(vm, dir);
    const child = spawn(command!, args, { stdio: ['ignore', 'pipe', 'pipe'], env: {} });
    return { name, dir, uid, child, cgroup: vm.cgroup, cleanup };
  } catch (cause) {
    await vm?.cgroup.destroy();
    await cleanup();
    throw new SandboxError(ErrorCodes.SANDBOX_START, `cannot start ${what}: ${(cause as Error).message}`, { cause });
  }
}

/**
 * Starts a VMM (launchVmm) as a sandbox, whatever the VMM: its agent is reached through the stream
 * `connect(vmm)` yields (virtio-serial through a Unix socket, or vsock), which first carries the
 * host's hello line.
 */
export async function startVm(host: VmHost, limits: Limits, what: string, starter: VmmStarter, connect: (vmm: LaunchedVmm) => (live: SandboxLiveness) => Promise<Socket>): Promise<Sandbox> {
  const vmm = await launchVmm(host, limits, what, starter);
  const open = connect(vmm);
  return new ProcessSandbox({
    id: vmm.name,
    kind: 'VM',
    child: vmm.child,
    output: [vmm.child.stdout!, vmm.child.stderr!],
    cgroup: vmm.cgroup,
    startTimeoutMs: host.startTimeoutMs,
    // The guest's RAM was fixed at boot; only the cgroup around the VMM follows an execution's limits.
    cgroupLimits: vmCgroupLimits,
    connect: async (live) => {
      const socket = await open(live);
      socket.write(helloLine());
      return { fromAgent: socket, toAgent: socket, close: () => socket.destroy() };
    },
    // Kernel log lines are noise unless they say what went wrong; the init's own lines are kept.
    explain: (line) => !/^\[\s*\d/.test(line) || /panic|error|fail/i.test(line),
    cleanup: vmm.cleanup,
  });
}

/** The language image's read-only root disk, or an error naming the setup step that makes it. */
export function requireDisk(vm: VmPaths, image: string): string {
  const disk = diskPath(vm, image);
  if (!existsSync(disk)) {
    throw new SandboxError(ErrorCodes.IMAGE_MISSING, `no VM disk for image '${image}'`, { hint: 'run `infra.operator setup --vm --lang <language>`' });
  }
  return disk;
}

/**
 * The first line the host sends a guest (runner-vminit reads it before the agent starts): the
 * host's clock and 32 bytes of entropy. A VM restored from a snapshot would otherwise run with the
 * snapshot's clock and the same RNG state as every other clone of it.
 */
export function helloLine(now: number = Date.now(), entropy: Buffer = randomBytes(32)): string {
  const seconds = Math.floor(now / 1000);
  const nanos = String((now % 1000) * 1_000_000).padStart(9, '0');
  return `RC-HELLO ${seconds}.${nanos} ${entropy.toString('hex')}\n`;
}

/**
 * Polls until the VMM's Unix socket at `path` accepts a connection (a VMM creates it while it
 * starts); connects only to a socket the VM's uid made (holdVmSocket).
 */
export async function connectWhenListening(path: string, uid: number, live: SandboxLiveness): Promise<Socket> {
  for (;;) {
    live.check();
    const held = holdVmSocket(path, uid);
    const socket = held && (await tryConnect(held));
    if (socket) return socket;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function tryConnect(held: HeldSocket): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const socket = connect(held.path);
    socket.once('connect', () => {
      held.close();
      resolve(socket);
    });
    socket.once('error', () => {
      held.close();
      socket.destroy();
      resolve(undefined);
    });
  });
}
