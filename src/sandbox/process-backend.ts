import { spawn } from 'node:child_process';
import { closeSync } from 'node:fs';
import { ErrorCodes, SandboxError } from '../errors.js';
import type { Backend, Sandbox, SandboxSpec } from './backend.js';
import type { BackendName } from './backend-names.js';
import type { CgroupDriver, CgroupLimits } from './cgroup/types.js';
import { HostIdAllocator, type HostIdRange } from './host-ids.js';
import type { Limits } from './limits.js';
import { hostUidOf, sandboxName } from './names.js';
import type { AgentStreams, LaunchedSandbox, SandboxLiveness, SandboxOwner, SandboxSlot } from './launched-sandbox.js';
import { ProcessSandbox } from './process-sandbox.js';

/** What a backend's command() hook returns: the argv the host runs, as root, to start the sandbox in its slot. */
export interface SandboxCommand<Run> {
  /** runner-launch (or runner-reaper) and its arguments; it joins the cgroup and drops to the slot's uid. */
  argv: readonly string[];
  /** Whether the agent speaks on the process's stdin and stdout (bwrap) instead of a socket (a VM's console is there). */
  agentOnStdio: boolean;
  /** Descriptors handed to the process as fd 3, 4, …; the host closes its copies once the process is started. */
  fds?: readonly number[];
  /** What the later hooks need of this one sandbox (a VM's private directory). */
  run: Run;
}

export interface ProcessBackendOptions {
  cgroups: CgroupDriver;
  /** Host uids (= gids) sandboxes run as, one slot per live sandbox; never 0. */
  hostIds: HostIdRange;
  startTimeoutMs: number;
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

  constructor(options: ProcessBackendOptions) {
    // SECURITY: the allocator refuses a range that includes uid 0 (and the launcher refuses 0 too).
    this.ids = new HostIdAllocator(options.hostIds);
    this.cgroups = options.cgroups;
    this.startTimeoutMs = options.startTimeoutMs;
  }

  /** Hook: everything about one sandbox that needs no host resource yet; its errors leave nothing to undo. */
  protected abstract plan(spec: SandboxSpec): Plan;
  /** Hook: prepares the slot (a VM's directory) and says what to run in it. */
  protected abstract command(slot: SandboxSlot, plan: Plan): Promise<SandboxCommand<Run>>;
  /** Hook: opens the agent's streams, at once (bwrap's pipes) or once the guest listens (a VM). */
  abstract connect(sandbox: LaunchedSandbox<Plan, Run>, live: SandboxLiveness): Promise<AgentStreams>;

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
      slot = { name, uid, cgroup: this.cgroups.create(name, this.cgroupLimits(limits)) };
      command = await this.command(slot, plan);
      const [program, ...args] = command.argv;
      const child = spawn(program!, args, { stdio: [command.agentOnStdio ? 'pipe' : 'ignore', 'pipe', 'pipe', ...(command.fds ?? [])], env: {} });
      const output = command.agentOnStdio ? [child.stderr!] : [child.stdout!, child.stderr!];
      return { ...slot, child, output, plan, run: command.run };
    } catch (cause) {
      await slot?.cgroup.destroy();
      if (slot) await this.cleanup(slot, plan);
      this.ids.release(uid);
      throw new SandboxError(ErrorCodes.SANDBOX_START, `cannot start ${this.name}: ${(cause as Error).message}`, { cause });
    } finally {
      for (const fd of command?.fds ?? []) closeSync(fd);
    }
  }

  /** Frees the slot of a sandbox whose processes are all gone (its cgroup destroyed). */
  async release(sandbox: LaunchedSandbox<Plan, Run>): Promise<void> {
    await this.cleanup(sandbox, sandbox.plan);
    this.ids.release(sandbox.uid);
  }
}
