import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { ErrorCodes, SandboxError } from '../../errors.js';
import type { JobMessage, ResultMessage } from '../../protocol/messages.js';
import { AgentChannel } from '../agent-channel.js';
import type { Limits } from '../../engine/limits.js';
import type { Backend, Sandbox, SandboxSpec } from '../backend.js';
import type { Cgroup, CgroupDriver, CgroupStats } from '../cgroup/types.js';
import { bwrapArgs, launchArgs, PROC_MASKS, type ProcMasks } from './plan.js';
import { hostUidOf, sandboxName } from '../names.js';
import { HostIdAllocator, type HostIdRange } from '../host-ids.js';

export interface BwrapBackendOptions {
  bwrapPath: string;
  launcherPath: string;
  agentPath: string;
  seccompFilterPath: string;
  cgroups: CgroupDriver;
  /** Host uids (= gids) sandboxes run as, one of its own per live sandbox; never 0. */
  hostIds: HostIdRange;
  /** How long the agent may take to say ready. */
  startTimeoutMs?: number;
}

/** Most bytes of bwrap's/the agent's own stderr kept for error messages. */
const DIAGNOSTICS_BYTES = 16 * 1024;

/** bubblewrap backend: namespaces + cgroup + seccomp + rlimits, agent over the bwrap pipes. */
export class BwrapBackend implements Backend {
  readonly name = 'bwrap';
  readonly #options: Required<BwrapBackendOptions>;
  readonly #ids: HostIdAllocator;
  readonly #procMasks: ProcMasks;

  constructor(options: BwrapBackendOptions) {
    // SECURITY: the allocator refuses a range that includes uid 0 (and the launcher refuses 0 too).
    this.#ids = new HostIdAllocator(options.hostIds);
    this.#options = { startTimeoutMs: 10_000, ...options };
    this.#procMasks = { files: PROC_MASKS.files.filter((f) => existsSync(f)), dirs: PROC_MASKS.dirs.filter((d) => existsSync(d)) };
  }

  async start(spec: SandboxSpec): Promise<Sandbox> {
    const o = this.#options;
    const uid = this.#ids.acquire(() => o.cgroups.list().map(hostUidOf));
    const name = sandboxName(process.pid, uid);
    let cgroup: Cgroup;
    try {
      cgroup = o.cgroups.create(name, spec.limits);
    } catch (err) {
      this.#ids.release(uid);
      throw err;
    }
    const release = (): void => this.#ids.release(uid);
    let seccompFd: number | undefined;
    let child: ChildProcess;
    try {
      // A fresh open file description per sandbox: bwrap reads the filter from the current offset.
      seccompFd = openSync(o.seccompFilterPath, 'r');
      const args = [
        ...launchArgs({ cgroupProcsFiles: cgroup.procsFiles, hostUid: uid, hostGid: uid }),
        o.bwrapPath,
        ...bwrapArgs({ rootfs: spec.rootfs, agentBinary: o.agentPath, tmpfsBytes: spec.limits.diskBytes, hostname: 'sandbox', procMasks: this.#procMasks }),
      ];
      child = spawn(o.launcherPath, args, { stdio: ['pipe', 'pipe', 'pipe', seccompFd], env: {} });
    } catch (cause) {
      await cgroup.destroy().finally(release);
      throw new SandboxError(ErrorCodes.SANDBOX_START, `cannot start bwrap: ${(cause as Error).message}`, { cause });
    } finally {
      if (seccompFd !== undefined) closeSync(seccompFd);
    }
    return new BwrapSandbox(name, child, cgroup, o.startTimeoutMs, release);
  }
}

class BwrapSandbox implements Sandbox {
  readonly id: string;
  readonly #child: ChildProcess;
  readonly #cgroup: Cgroup;
  readonly #channel: AgentChannel;
  readonly #ready: Promise<void>;
  readonly #exited: Promise<void>;
  #diagnostics = '';
  #exitedAlready = false;
  #destroyed: Promise<void> | undefined;
  readonly #releaseHostId: () => void;

  constructor(id: string, child: ChildProcess, cgroup: Cgroup, startTimeoutMs: number, releaseHostId: () => void) {
    this.id = id;
    this.#releaseHostId = releaseHostId;
    this.#child = child;
    this.#cgroup = cgroup;
    this.#channel = new AgentChannel(child.stdout!, child.stdin!);
    child.stderr!.on('data', (chunk: Buffer) => {
      if (this.#diagnostics.length < DIAGNOSTICS_BYTES) this.#diagnostics += chunk.toString('utf8');
    });
    this.#exited = new Promise((resolve) => {
      child.once('close', (code, signal) => {
        this.#exitedAlready = true;
        this.#channel.fail(this.#exitError(code, signal));
        resolve();
      });
      child.once('error', (err) => {
        this.#channel.fail(new SandboxError(ErrorCodes.SANDBOX_START, `cannot run the launcher: ${err.message}`, { cause: err }));
        resolve();
      });
    });
    this.#ready = this.#channel.waitReady(startTimeoutMs).then(() => undefined);
    // Start-up failures surface through ready(); never as an unhandled rejection.
    this.#ready.catch(() => undefined);
  }

  ready(): Promise<void> {
    return this.#ready;
  }

  get alive(): boolean {
    return !this.#exitedAlready && this.#destroyed === undefined;
  }

  applyLimits(limits: Limits): void {
    this.#cgroup.setLimits(limits);
  }

  async run(job: JobMessage, budgetMs: number): Promise<ResultMessage> {
    await this.#ready;
    return this.#channel.request(job, budgetMs);
  }

  stats(): CgroupStats {
    return this.#cgroup.stats();
  }

  destroy(): Promise<void> {
    this.#destroyed ??= (async () => {
      this.#channel.fail(new SandboxError(ErrorCodes.CANCELLED, 'sandbox destroyed'));
      await this.#cgroup.destroy();
      // The launcher/bwrap process was in the cgroup and is dead now; wait for Node to reap it.
      this.#child.kill('SIGKILL');
      await this.#exited;
      // Only now, with every process of the sandbox gone, may another sandbox get this uid (a failed
      // teardown above keeps it held for good: one id lost beats two sandboxes sharing one).
      this.#releaseHostId();
    })();
    return this.#destroyed;
  }

  #exitError(code: number | null, signal: NodeJS.Signals | null): SandboxError {
    const how = signal ? `was killed by ${signal}` : `exited with status ${code}`;
    const detail = this.#diagnostics.trim().split('\n').slice(-5).join(' | ');
    return new SandboxError(ErrorCodes.SANDBOX_START, `sandbox ${how} before the agent answered${detail ? `: ${detail}` : ''}`);
  }
}

