import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { chmod, chown, mkdir, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import type { Limits } from '../engine/limits.js';
import { ErrorCodes, SandboxError } from '../errors.js';
import type { JobMessage, ResultMessage } from '../protocol/messages.js';
import { AgentChannel } from './agent-channel.js';
import type { Sandbox } from './backend.js';
import { diskPath, type VmPaths } from '../images/vm/paths.js';
import { launchArgs } from './bwrap/plan.js';
import type { Cgroup, CgroupDriver, CgroupLimits, CgroupStats } from './cgroup/types.js';
import { HostIdAllocator, type HostIdRange } from './host-ids.js';
import { hostUidOf, isProcessAlive, ownerOf, sandboxName } from './names.js';

/** Guest RAM beyond the execution's memory limit: the guest kernel and its page cache. */
export const GUEST_KERNEL_MIB = 64;
/** Host memory a VMM needs beyond the guest's RAM (QEMU's TCG translation cache, device models). */
const VMM_OVERHEAD_BYTES = 192 * 1024 * 1024;
const CONSOLE_BYTES = 16 * 1024;

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

/** Removes the directories of VMs whose owning process died (their cgroups are cleaned elsewhere). */
function removeStaleVmDirs(runDir: string): void {
  if (!existsSync(runDir)) return;
  for (const name of readdirSync(runDir)) {
    const owner = ownerOf(name);
    if (owner !== undefined && !isProcessAlive(owner)) rmSync(join(runDir, name), { recursive: true, force: true });
  }
}

/** Whether the VM can still come up; a connect loop stops when it cannot. */
export interface VmLiveness {
  readonly deadline: number;
  /** Throws the reason once the VMM has exited or the sandbox was destroyed. */
  check(): void;
}

export interface VmSandboxParts {
  id: string;
  /** The VMM process (through runner-launch); its stdout and stderr carry the guest console. */
  child: ChildProcess;
  cgroup: Cgroup;
  startTimeoutMs: number;
  cgroupLimits: (limits: Limits) => CgroupLimits;
  /** Boots the VM as far as needed and resolves with a stream to the guest's agent. */
  connect: (live: VmLiveness) => Promise<Socket>;
  /** Removes the VM's files and frees its uid; called once every process of the VM is gone. */
  cleanup: () => Promise<void>;
}

/**
 * One microVM as a Sandbox, whatever the VMM: the process, its cgroup, the agent channel over
 * whatever stream `connect` yields (virtio-serial through a Unix socket, or vsock), and teardown.
 */
export class VmSandbox implements Sandbox {
  readonly id: string;
  readonly #parts: VmSandboxParts;
  readonly #ready: Promise<void>;
  readonly #exited: Promise<void>;
  #channel: AgentChannel | undefined;
  #socket: Socket | undefined;
  #console = '';
  #exitedAlready = false;
  #destroyed: Promise<void> | undefined;

  constructor(parts: VmSandboxParts) {
    this.id = parts.id;
    this.#parts = parts;
    const keep = (chunk: Buffer): void => {
      this.#console = (this.#console + chunk.toString('utf8')).slice(-CONSOLE_BYTES);
    };
    parts.child.stdout?.on('data', keep);
    parts.child.stderr?.on('data', keep);
    this.#exited = new Promise((resolve) => {
      parts.child.once('close', (code, signal) => {
        this.#exitedAlready = true;
        this.#channel?.fail(this.#exitError(code, signal));
        this.#socket?.destroy();
        resolve();
      });
      parts.child.once('error', () => resolve());
    });
    this.#ready = this.#boot();
    this.#ready.catch(() => undefined);
  }

  async #boot(): Promise<void> {
    const deadline = Date.now() + this.#parts.startTimeoutMs;
    const live: VmLiveness = {
      deadline,
      check: () => {
        if (this.#exitedAlready) throw this.#exitError(this.#parts.child.exitCode, this.#parts.child.signalCode);
        if (this.#destroyed) throw new SandboxError(ErrorCodes.CANCELLED, 'sandbox destroyed');
        if (Date.now() > deadline) throw new SandboxError(ErrorCodes.SANDBOX_START, `the VM's agent did not answer within ${this.#parts.startTimeoutMs} ms`);
      },
    };
    this.#socket = await this.#parts.connect(live);
    this.#socket.write(helloLine());
    this.#channel = new AgentChannel(this.#socket, this.#socket);
    if (this.#exitedAlready) this.#channel.fail(this.#exitError(this.#parts.child.exitCode, this.#parts.child.signalCode));
    await this.#channel.waitReady(Math.max(1, deadline - Date.now()));
  }

  ready(): Promise<void> {
    return this.#ready;
  }

  get alive(): boolean {
    return !this.#exitedAlready && this.#destroyed === undefined;
  }

  applyLimits(limits: Limits): void {
    // The guest's RAM was fixed at boot; only the cgroup around the VMM follows.
    this.#parts.cgroup.setLimits(this.#parts.cgroupLimits(limits));
  }

  async run(job: JobMessage, budgetMs: number): Promise<ResultMessage> {
    await this.#ready;
    return this.#channel!.request(job, budgetMs);
  }

  stats(): CgroupStats {
    return this.#parts.cgroup.stats();
  }

  destroy(): Promise<void> {
    this.#destroyed ??= (async () => {
      this.#channel?.fail(new SandboxError(ErrorCodes.CANCELLED, 'sandbox destroyed'));
      this.#socket?.destroy();
      await this.#parts.cgroup.destroy();
      this.#parts.child.kill('SIGKILL');
      await this.#exited;
      await this.#parts.cleanup();
    })();
    return this.#destroyed;
  }

  #exitError(code: number | null, signal: NodeJS.Signals | null): SandboxError {
    const how = signal ? `was killed by ${signal}` : `exited with status ${code}`;
    // Kernel log lines are noise unless they say what went wrong; the init's own lines are kept.
    const detail = this.#console.trim().split('\n').filter((line) => !/^\[\s*\d/.test(line) || /panic|error|fail/i.test(line)).slice(-5).join(' | ');
    return new SandboxError(ErrorCodes.SANDBOX_START, `VM ${how} before the agent answered${detail ? `: ${detail}` : ''}`);
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
}

/** How to start one VMM, given its private directory. */
export interface VmLaunch {
  /** The VMM's argv; it runs through runner-launch, as the VM's own uid, inside the VM's cgroup. */
  argv: string[];
  connect: (live: VmLiveness) => Promise<Socket>;
}

/** A VMM process started for one VM, with what must be undone when it is gone. */
export interface LaunchedVmm {
  name: string;
  /** The VM's private directory (owned by its uid). */
  dir: string;
  uid: number;
  child: ChildProcess;
  cgroup: Cgroup;
  /** Removes the directory and frees the uid; call once every process of the VM is gone. */
  cleanup: () => Promise<void>;
}

/**
 * Starts a VMM the way every sandbox starts: a host uid of its own, a cgroup bounding the whole VM,
 * a private directory for its sockets, then runner-launch (join the cgroup, drop to the uid,
 * no_new_privs, die with the parent) execs the VMM. Undoes all of it if any step fails.
 */
export async function launchVmm(host: VmHost, limits: Limits, what: string, argvFor: (dir: string) => string[]): Promise<LaunchedVmm> {
  const uid = host.ids.acquire(() => host.cgroups.list().map(hostUidOf));
  const name = sandboxName(process.pid, uid);
  const dir = join(host.runDir, name);
  let cgroup: Cgroup | undefined;
  const cleanup = async (): Promise<void> => {
    await rm(dir, { recursive: true, force: true });
    host.ids.release(uid);
  };
  try {
    cgroup = host.cgroups.create(name, vmCgroupLimits(limits));
    await makeVmDir(dir, uid);
    const args = [...launchArgs({ cgroupProcsFiles: cgroup.procsFiles, hostUid: uid, hostGid: uid }), ...argvFor(dir)];
    const child = spawn(host.launcherPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: {} });
    return { name, dir, uid, child, cgroup, cleanup };
  } catch (cause) {
    await cgroup?.destroy();
    await cleanup();
    throw new SandboxError(ErrorCodes.SANDBOX_START, `cannot start ${what}: ${(cause as Error).message}`, { cause });
  }
}

/** Starts a VMM (launchVmm) as a sandbox whose agent is reached through `launch(dir).connect`. */
export async function startVm(host: VmHost, limits: Limits, what: string, launch: (dir: string) => VmLaunch): Promise<VmSandbox> {
  let connect: VmLaunch['connect'] | undefined;
  const vmm = await launchVmm(host, limits, what, (dir) => {
    const planned = launch(dir);
    connect = planned.connect;
    return planned.argv;
  });
  return new VmSandbox({ id: vmm.name, child: vmm.child, cgroup: vmm.cgroup, startTimeoutMs: host.startTimeoutMs, cgroupLimits: vmCgroupLimits, connect: connect!, cleanup: vmm.cleanup });
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

/** Polls until a Unix socket accepts a connection (a VMM creates it while it starts). */
export async function connectWhenListening(path: string, live: VmLiveness): Promise<Socket> {
  for (;;) {
    live.check();
    const socket = await tryConnect(path);
    if (socket) return socket;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function tryConnect(path: string): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    if (!existsSync(path)) return resolve(undefined);
    const socket = connect(path);
    socket.once('connect', () => resolve(socket));
    socket.once('error', () => {
      socket.destroy();
      resolve(undefined);
    });
  });
}
