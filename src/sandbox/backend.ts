import type { Limits } from './limits.js';
import type { JobMessage, PrestartMessage, PrestartedMessage, ResultMessage } from '../protocol/messages.js';
import type { BackendName } from './backend-names.js';
import type { CgroupStats } from './cgroup/types.js';
import type { AgentSession } from './agent-session.js';

/** What a backend needs to start one sandbox. */
export interface SandboxSpec {
  /** Image id (microVM backends boot that image's disk). */
  image: string;
  /** Directory holding the image's root filesystem (read-only at run time). */
  rootfs: string;
  limits: Limits;
  /** Trace id of the execution (for logs only; never reaches the sandbox). */
  traceId: string;
}

/**
 * One sandbox: started with the agent waiting, used for exactly one job (run) or one session
 * (openSession: many execs and file requests, protocol version 2), then destroyed.
 * Lifecycle: starting → ready → running → done, and destroy() from any state.
 */
export interface Sandbox {
  readonly id: string;
  /** False once the sandbox died or was destroyed (a warm pool never hands out a dead one). */
  readonly alive: boolean;
  /**
   * Changes the run-time limits of a started sandbox (a pooled one, before its job): its cgroup's
   * (memory, pids, CPU). Those of Backend.fixedAtStart stay as the sandbox started.
   */
  applyLimits(limits: Limits): void;
  /** Resolves when the agent has said it is ready (the sandbox is fully set up). */
  ready(): Promise<void>;
  /**
   * Before the job (a warm pool's sandbox): starts the frame's interpreter, which the job's run
   * stage then uses if it fits (docs/prestart.md). Resolves with the agent's answer; at most once.
   */
  prestart(frame: PrestartMessage, timeoutMs: number): Promise<PrestartedMessage>;
  /** Sends the job and resolves with the agent's result. Rejects after `budgetMs` without an answer. */
  run(job: JobMessage, budgetMs: number): Promise<ResultMessage>;
  /**
   * Opens a session on the ready sandbox instead of a job (one or the other per sandbox). The
   * session ends with the sandbox (destroy()); an agent that breaks its word ends the sandbox.
   */
  openSession(): Promise<AgentSession>;
  /** Resource usage of the whole sandbox (cgroup), valid until destroy(). */
  stats(): CgroupStats;
  /** stats().oomKills alone, with one read (after every execution). */
  oomKills(): number;
  /** stats().memoryCurrentBytes alone, with one read (the warm pool's budget). */
  memoryCurrentBytes(): number | null;
  /** Kills everything in the sandbox and removes every trace of it on the host. Idempotent. */
  destroy(): Promise<void>;
}

export interface Backend {
  readonly name: BackendName;
  /**
   * The boot-time limits (Firecracker's pre-boot settings): those a sandbox takes at start and
   * applyLimits cannot change afterwards (a VM's RAM and its tmpfs sizes; bwrap's tmpfs sizes). A
   * warm pool hands a sandbox only to a request whose values of these equal the ones it started
   * with. Every other field is run-time: the cgroup's through applyLimits, the per-stage ones
   * (timeouts, output cap, rlimits) in each job (docs/architecture.md, "One base for every backend").
   */
  readonly fixedAtStart: readonly (keyof Limits)[];
  start(spec: SandboxSpec): Promise<Sandbox>;
  /** Releases what the backend holds across sandboxes (its fork server); after every sandbox is destroyed. */
  close?(): Promise<void>;
}
