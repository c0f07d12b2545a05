import type { Readable, Writable } from 'node:stream';
import type { Cgroup, CgroupLimits } from './cgroup/types.js';
import type { Limits } from './limits.js';
import type { SandboxProcess } from './sandbox-process.js';

/*
 * The shapes between a backend (ProcessBackend, which launches a sandbox's process) and the
 * sandbox it hands out (ProcessSandbox, which talks to the agent and tears everything down).
 */

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

/** One sandbox's identity on the host, taken before anything runs: its name, its own uid (also its gid), its cgroup. */
export interface SandboxSlot {
  name: string;
  uid: number;
  cgroup: Cgroup;
}

/** A started sandbox process in its slot, as the hooks after command() see it. */
export interface LaunchedSandbox<Plan, Run> extends SandboxSlot {
  /** The process the host started; it ends when the sandbox does. */
  child: SandboxProcess;
  /** Its streams that carry its own output (bwrap's stderr; a VM's console on stdout and stderr). */
  output: readonly Readable[];
  plan: Plan;
  run: Run;
}

/** What ProcessSandbox asks of the backend that started it: the hooks after the launch. */
export interface SandboxOwner<Plan, Run> {
  /** `sandbox` or `VM`: what error messages call it. */
  readonly kind: string;
  /** Start-to-agent-ready budget. */
  readonly startTimeoutMs: number;
  connect(sandbox: LaunchedSandbox<Plan, Run>, live: SandboxLiveness): Promise<AgentStreams>;
  cgroupLimits(limits: Limits): CgroupLimits;
  explain(line: string): boolean;
  release(sandbox: LaunchedSandbox<Plan, Run>): Promise<void>;
}
