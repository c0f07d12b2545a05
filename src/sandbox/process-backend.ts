import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { ErrorCodes, SandboxError } from '../errors.js';
import type { Backend, Sandbox, SandboxSpec } from './backend.js';
import type { BackendName } from './backend-names.js';
import type { CgroupDriver, CgroupLimits } from './cgroup/types.js';
import { HostIdAllocator, type HostIdRange } from './host-ids.js';
import type { Limits } from './limits.js';
import { hostUidOf, sandboxName } from './names.js';
import type { AgentStreams, LaunchedSandbox, SandboxLiveness, SandboxOwner, SandboxSlot } from './launched-sandbox.js';
import { ProcessSandbox } from './process-sandbox.js';
import type { SandboxProcess } from './sandbox-process.js';
import { ForkServer } from './fork-server.js';

/** How long close() waits for background cgroup removals: a killed task that takes longer is stuck in the kernel. */
const CLOSE_REMOVALS_MS = 30_000;

/** What a backend's command() hook returns: the argv the host runs, as root, to start the sandbox in its slot. */
export interface SandboxCommand<Run> {
  /** runner-launch (or runner-reaper) and its arguments; it joins the cgroup and drops to the slot's uid. */
  argv: readonly string[];
  /** Whether the agent speaks on the process's stdin and stdout (bwrap) instead of a socket (a VM's console is there). */
  agentOnStdio: boolean;
  /** A file opened afresh for each sandbox and handed to the process as fd 3 (bwrap's seccomp filter). */
  fdFile?: string;
  /** What the later hooks need of this one sandbox (a VM's private directory). */
  run: Run;
}

export interface ProcessBackendOptions {
  cgroups: CgroupDriver;
  /** Host uids (= gids) sandboxes run as, one slot per live sandbox; never 0. */
  hostIds: HostIdRange;
  startTimeoutMs: number;
  /**
   * Start sandboxes through runner-forkserver (fork-server.ts) instead of forking this process:
   * the server's binary, and the files a sandbox may get as its fd 3. Only for commands that run
   * `launcher` with the agent on stdio; others are spawned here.
   */
  forkServer?: { path: string; launcher: string; fdFiles: readonly string[] };
}

/**
 * The one base of every backend: a sandbox is one host process in a cgroup of its own, run as a
 * host uid of its own. The base owns the sequence — plan (checks, before anything is taken) → take
 * a host uid → create the cgroup → the backend's command → spawn → connect and wait for the agent
 * (ProcessSandbox) → on destroy, or on a failure at any step, undo in reverse: kill the cgroup,
 * reap the process, the backend's cleanup, free the uid. A backend fills in the named hooks:
 * plan(), command(), connect(), and where it differs cgroupLimits(), explain(), cleanup()
 * (after undici's DispatcherBase: the base owns the lifecycle, subclasses a few methods).
 */
export abstract class ProcessBackend<Plan, Run> implements Backend, SandboxOwner<Plan, Run> {
  abstract readonly name: BackendName;
  abstract readonly fixedAtStart: readonly (keyof Limits)[];
  abstract readonly kind: string;
  readonly startTimeoutMs: number;
  protected readonly cgroups: CgroupDriver;
  protected readonly ids: HostIdAllocator;
  readonly #forkServerOptions: ProcessBackendOptions['forkServer'];
  #forkServer: Promise<ForkServer> | undefined;
  #forkServerStarted: ForkServer | undefined;

  constructor(options: ProcessBackendOptions) {
    // SECURITY: the allocator refuses a range that includes uid 0 (and the launcher refuses 0 too).
    this.ids = new HostIdAllocator(options.hostIds);
    this.cgroups = options.cgroups;
    this.startTimeoutMs = options.startTimeoutMs;
    this.#forkServerOptions = options.forkServer;
  }

  /** Hook: everything about one sandbox that needs no host resource yet; its errors leave nothing to undo. */
  protected abstract plan(spec: SandboxSpec): Plan;
  /** Hook: prepares the slot (a VM's directory) and says what to run in it. */
  protected abstract command(slot: SandboxSlot, plan: Plan): Promise<SandboxCommand<Run>>;
  /** Hook: opens the agent's streams, at once (bwrap's pipes) or once the guest listens (a VM). */
  abstract connect(sandbox: LaunchedSandbox<Plan, Run>, live: SandboxLiveness): Promise<AgentStreams>;

  /**
   * Whether the command's process holds every process of its sandbox in a pid namespace whose init
   * dies with it (bwrap: --unshare-pid, --die-with-parent). Started through the fork server, such a
   * sandbox is killed by killing that process (stopProcess), so its cgroup need not kill (no v1
   * freezer). A VMM is one process with no such namespace: its cgroup kills.
   */
  protected readonly pidNamespace: boolean = false;

  /** Hook: the cgroup's limits for an execution's limits (default: the same). */
  cgroupLimits(limits: Limits): CgroupLimits {
    return limits;
  }

  /** Hook: which of the process's output lines explain a failure (default: all). */
  explain(_line: string): boolean {
    return true;
  }

  /** Hook: removes what command() made in the slot; called once every process of the sandbox is gone. */
  protected async cleanup(_slot: SandboxSlot, _plan: Plan): Promise<void> {}

  async start(spec: SandboxSpec): Promise<Sandbox> {
    return new ProcessSandbox(this, await this.launch(spec.limits, this.plan(spec)));
  }

  /** Takes a slot and starts the sandbox's process in it; undoes every step taken if one fails. */
  protected async launch(limits: Limits, plan: Plan): Promise<LaunchedSandbox<Plan, Run>> {
    const uid = this.ids.acquire(() => this.cgroups.list().map(hostUidOf));
    const name = sandboxName(process.pid, uid);
    let slot: SandboxSlot | undefined;
    let command: SandboxCommand<Run> | undefined;
    try {
      // SECURITY: the kill stopProcess does instead is race-free only through the fork server
      // (which never signals a reaped pid and kills what a dead bwrap orphaned): #spawn insists.
      const killAll = !(this.pidNamespace && this.#forkServerOptions);
      slot = { name, uid, cgroup: this.cgroups.create(name, this.cgroupLimits(limits), { killAll }) };
      command = await this.command(slot, plan);
      const child = await this.#spawn(command, slot.cgroup.killsAll);
      const output = command.agentOnStdio ? [child.stderr!] : [child.stdout!, child.stderr!];
      return { ...slot, child, output, plan, run: command.run };
    } catch (cause) {
      await slot?.cgroup.destroy();
      if (slot) await this.cleanup(slot, plan);
      this.ids.release(uid);
      throw new SandboxError(ErrorCodes.SANDBOX_START, `cannot start ${this.name}: ${(cause as Error).message}`, { cause });
    }
  }

  /** Starts the command's process: through the fork server where it can, else forking this process. */
  async #spawn(command: SandboxCommand<Run>, cgroupKills: boolean): Promise<SandboxProcess> {
    const [program, ...args] = command.argv;
    const server = this.#forkServerOptions;
    const fdFile = command.fdFile === undefined ? -1 : (server?.fdFiles.indexOf(command.fdFile) ?? -1);
    // SECURITY: the fork server runs its launcher and nothing else; any other command is spawned here.
    if (server && command.agentOnStdio && program === server.launcher && (command.fdFile === undefined || fdFile >= 0)) {
      return (await this.#forkServerFor(server)).launch(args, fdFile);
    }
    if (!cgroupKills) throw new SandboxError(ErrorCodes.INTERNAL, `${this.name}: a sandbox whose cgroup does not kill must start through the fork server`);
    // A fresh open file description per sandbox: bwrap reads the filter from the current offset.
    const fd = command.fdFile === undefined ? undefined : openSync(command.fdFile, 'r');
    try {
      return spawn(program!, args, { stdio: [command.agentOnStdio ? 'pipe' : 'ignore', 'pipe', 'pipe', ...(fd === undefined ? [] : [fd])], env: {} });
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  /**
   * The fork server, started on the first start that needs it (decided synchronously: concurrent
   * starts share one). One that died (its sandboxes died with it) or failed to start is replaced.
   */
  #forkServerFor(server: NonNullable<ProcessBackendOptions['forkServer']>): Promise<ForkServer> {
    if (!this.#forkServer || this.#forkServerStarted?.alive === false) {
      const starting = ForkServer.start(server.path, server.launcher, server.fdFiles);
      this.#forkServer = starting;
      this.#forkServerStarted = undefined;
      starting.then(
        (started) => void (this.#forkServerStarted = started),
        () => void (this.#forkServer === starting && (this.#forkServer = undefined)),
      );
    }
    return this.#forkServer;
  }

  /**
   * Stops the fork server, if one was started (every sandbox is destroyed before), and waits for
   * the cgroups still being removed in the background (killed tasks still exiting): up to
   * CLOSE_REMOVALS_MS, then it throws naming those left (the next start's stale clean-up removes
   * them once this process is gone).
   */
  async close(): Promise<void> {
    (await this.#forkServer?.catch(() => undefined))?.close();
    const left = await this.cgroups.settle(CLOSE_REMOVALS_MS);
    if (left.length > 0) throw new SandboxError(ErrorCodes.CGROUP, `${left.length} sandbox cgroup(s) still not removable after ${CLOSE_REMOVALS_MS} ms (their killed tasks have not exited): ${left.join(', ')}`);
  }

  /** Frees the slot of a sandbox whose processes are all gone (its cgroup destroyed). */
  async release(sandbox: LaunchedSandbox<Plan, Run>): Promise<void> {
    await this.cleanup(sandbox, sandbox.plan);
    this.ids.release(sandbox.uid);
  }
}
