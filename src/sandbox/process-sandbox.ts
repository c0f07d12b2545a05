import type { ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { Limits } from './limits.js';
import { ErrorCodes, SandboxError } from '../errors.js';
import type { JobMessage, ResultMessage } from '../protocol/messages.js';
import { AgentChannel } from './agent-channel.js';
import type { Sandbox } from './backend.js';
import type { Cgroup, CgroupLimits, CgroupStats } from './cgroup/types.js';

/** Most bytes of the process's own output (bwrap's stderr, a VM's console) kept to explain a failure. */
const OUTPUT_BYTES = 16 * 1024;
/** How long the process the host started may take to end after SIGTERM. */
const STOP_GRACE_MS = 2000;

/** Whether a sandbox can still come up; a connect loop stops when it cannot. */
export interface SandboxLiveness {
  readonly deadline: number;
  /** Throws the reason once the process has exited or the sandbox was destroyed. */
  check(): void;
}

/** The agent's two directions: bwrap's pipes, or both ends of one socket to a VM. */
export interface AgentStreams {
  fromAgent: Readable;
  toAgent: Writable;
  /** Closes them (on destroy); bwrap's pipes close with the process. */
  close?: () => void;
}

export interface ProcessSandboxParts {
  id: string;
  /** `sandbox` or `VM`: what error messages call it. */
  kind: string;
  /** The process the host started (runner-launch, or runner-reaper); it ends when the sandbox does. */
  child: ChildProcess;
  /** Its streams that carry its own output (bwrap's stderr; a VM's console on stdout and stderr). */
  output: readonly Readable[];
  cgroup: Cgroup;
  startTimeoutMs: number;
  /** The cgroup's limits for an execution's limits (a VM's cgroup also holds its VMM). */
  cgroupLimits: (limits: Limits) => CgroupLimits;
  /** Opens the agent's streams: at once (bwrap's pipes) or once the guest listens (a VM). */
  connect: (live: SandboxLiveness) => Promise<AgentStreams>;
  /** Which of the process's output lines explain a failure (default: all). */
  explain?: (line: string) => boolean;
  /** Frees what the sandbox held (its uid, its files); called once every process of it is gone. */
  cleanup: () => Promise<void>;
}

/**
 * A sandbox that is one host process and its cgroup, whatever runs in it (bwrap, or a VMM): the
 * agent channel over the streams `connect` yields, start-up and exit errors that quote the
 * process's own output, and teardown — the cgroup killed, the process reaped, then `cleanup`.
 */
export class ProcessSandbox implements Sandbox {
  readonly id: string;
  readonly #parts: ProcessSandboxParts;
  readonly #ready: Promise<void>;
  readonly #exited: Promise<void>;
  #channel: AgentChannel | undefined;
  #streams: AgentStreams | undefined;
  #output = '';
  #exit: SandboxError | undefined;
  #destroyed: Promise<void> | undefined;

  constructor(parts: ProcessSandboxParts) {
    this.id = parts.id;
    this.#parts = parts;
    const keep = (chunk: Buffer): void => {
      this.#output = (this.#output + chunk.toString('utf8')).slice(-OUTPUT_BYTES);
    };
    for (const stream of parts.output) stream.on('data', keep);
    this.#exited = new Promise((resolve) => {
      const ended = (error: SandboxError): void => {
        this.#exit ??= error;
        this.#channel?.fail(this.#exit);
        this.#streams?.close?.();
        resolve();
      };
      parts.child.once('close', (code, signal) => ended(this.#exitError(code, signal)));
      parts.child.once('error', (err) => ended(new SandboxError(ErrorCodes.SANDBOX_START, `cannot run ${parts.child.spawnfile}: ${err.message}`, { cause: err })));
    });
    this.#ready = this.#start();
    // Start-up failures surface through ready(); never as an unhandled rejection.
    this.#ready.catch(() => undefined);
  }

  async #start(): Promise<void> {
    const deadline = Date.now() + this.#parts.startTimeoutMs;
    const live: SandboxLiveness = {
      deadline,
      check: () => {
        if (this.#exit) throw this.#exit;
        if (this.#destroyed) throw new SandboxError(ErrorCodes.CANCELLED, 'sandbox destroyed');
        if (Date.now() > deadline) throw new SandboxError(ErrorCodes.SANDBOX_START, `the ${this.#parts.kind}'s agent did not answer within ${this.#parts.startTimeoutMs} ms`);
      },
    };
    this.#streams = await this.#parts.connect(live);
    this.#channel = new AgentChannel(this.#streams.fromAgent, this.#streams.toAgent);
    if (this.#exit) this.#channel.fail(this.#exit);
    await this.#channel.waitReady(Math.max(1, deadline - Date.now()));
  }

  ready(): Promise<void> {
    return this.#ready;
  }

  get alive(): boolean {
    return this.#exit === undefined && this.#destroyed === undefined;
  }

  applyLimits(limits: Limits): void {
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
      this.#streams?.close?.();
      await stopProcess(this.#parts.child, this.#parts.cgroup, this.#exited);
      // Only now, with every process of the sandbox gone, may another sandbox get its uid (a failed
      // teardown above keeps it held for good: one id lost beats two sandboxes sharing one).
      await this.#parts.cleanup();
    })();
    return this.#destroyed;
  }

  #exitError(code: number | null, signal: NodeJS.Signals | null): SandboxError {
    const how = signal ? `was killed by ${signal}` : `exited with status ${code}`;
    const explain = this.#parts.explain ?? (() => true);
    const detail = this.#output.trim().split('\n').filter(explain).slice(-5).join(' | ');
    return new SandboxError(ErrorCodes.SANDBOX_START, `${this.#parts.kind} ${how} before the agent answered${detail ? `: ${detail}` : ''}`);
  }
}

/**
 * Stops a sandbox's process for good: kills its cgroup (every process that joined it), then asks the
 * process the host started to end — runner-launch's bwrap or VMM is gone already; runner-reaper
 * kills whatever is left below it, such as a jailer that had not yet joined the cgroup — and waits
 * for it (SIGKILL after a grace period). `exited` resolves once that process has ended.
 */
export async function stopProcess(child: ChildProcess, cgroup: Cgroup, exited: Promise<void>): Promise<void> {
  await cgroup.destroy();
  child.kill('SIGTERM');
  const kill = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(kill);
}
