import type { Limits } from './limits.js';
import { ErrorCodes, SandboxError } from '../errors.js';
import type { JobMessage, PrestartMessage, PrestartedMessage, ResultMessage } from '../protocol/messages.js';
import { AgentChannel } from './agent-channel.js';
import type { AgentSession } from './agent-session.js';
import type { Sandbox } from './backend.js';
import type { Cgroup, CgroupStats } from './cgroup/types.js';
import type { AgentStreams, LaunchedSandbox, SandboxOwner, SandboxLiveness } from './launched-sandbox.js';
import type { SandboxProcess } from './sandbox-process.js';
import { WORKDIR } from './workdir.js';

/** Most bytes of the process's own output (bwrap's stderr, a VM's console) kept to explain a failure. */
const OUTPUT_BYTES = 16 * 1024;
/** How long the process the host started may take to end after SIGTERM. */
const STOP_GRACE_MS = 2000;

/**
 * A sandbox that is one host process and its cgroup, whatever runs in it (bwrap, or a VMM), as its
 * backend (ProcessBackend) launched it: the agent channel over the streams the backend's connect()
 * yields, start-up and exit errors that quote the process's own output, and teardown — the cgroup
 * killed, the process reaped, then the backend's release().
 */
export class ProcessSandbox<Plan, Run> implements Sandbox {
  readonly id: string;
  readonly #owner: SandboxOwner<Plan, Run>;
  readonly #launched: LaunchedSandbox<Plan, Run>;
  readonly #ready: Promise<void>;
  readonly #exited: Promise<void>;
  #channel: AgentChannel | undefined;
  #streams: AgentStreams | undefined;
  #output = '';
  #exit: SandboxError | undefined;
  #destroyed: Promise<void> | undefined;
  /** What the sandbox was used for: one job or one session, never both, never twice. */
  #use: 'job' | 'session' | undefined;
  /** A prestart frame went first (at most one, before the job or session). */
  #prestarted = false;

  constructor(owner: SandboxOwner<Plan, Run>, launched: LaunchedSandbox<Plan, Run>) {
    this.id = launched.name;
    this.#owner = owner;
    this.#launched = launched;
    const keep = (chunk: Buffer): void => {
      this.#output = (this.#output + chunk.toString('utf8')).slice(-OUTPUT_BYTES);
    };
    for (const stream of launched.output) stream.on('data', keep);
    this.#exited = new Promise((resolve) => {
      const ended = (error: SandboxError): void => {
        this.#exit ??= error;
        this.#channel?.fail(this.#exit);
        this.#streams?.close?.();
        resolve();
      };
      launched.child.once('close', (code, signal) => ended(this.#exitError(code, signal)));
      launched.child.once('error', (err) => ended(new SandboxError(ErrorCodes.SANDBOX_START, `cannot run ${launched.child.spawnfile}: ${err.message}`, { cause: err })));
    });
    this.#ready = this.#start();
    // Start-up failures surface through ready(); never as an unhandled rejection.
    this.#ready.catch(() => undefined);
  }

  async #start(): Promise<void> {
    const deadline = Date.now() + this.#owner.startTimeoutMs;
    const live: SandboxLiveness = {
      deadline,
      check: () => {
        if (this.#exit) throw this.#exit;
        if (this.#destroyed) throw new SandboxError(ErrorCodes.CANCELLED, 'sandbox destroyed');
        if (Date.now() > deadline) throw new SandboxError(ErrorCodes.SANDBOX_START, `the ${this.#owner.kind}'s agent did not answer within ${this.#owner.startTimeoutMs} ms`);
      },
    };
    this.#streams = await this.#owner.connect(this.#launched, live);
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
    this.#launched.cgroup.setLimits(this.#owner.cgroupLimits(limits));
  }

  async prestart(frame: PrestartMessage, timeoutMs: number): Promise<PrestartedMessage> {
    await this.#ready;
    if (this.#use || this.#prestarted) throw new SandboxError(ErrorCodes.INTERNAL, `sandbox ${this.id} cannot pre-start now`);
    this.#prestarted = true;
    // An agent from before prestart frames would take this one for a bad job and end.
    if (!this.#channel!.offers('prestart')) return { type: 'prestarted', protocol: frame.protocol, ready: false, message: 'the agent does not pre-start interpreters' };
    return this.#channel!.prestart(frame, timeoutMs);
  }

  async run(job: JobMessage, budgetMs: number): Promise<ResultMessage> {
    await this.#ready;
    this.#take('job');
    return this.#channel!.request(job, budgetMs);
  }

  async openSession(): Promise<AgentSession> {
    await this.#ready;
    this.#take('session');
    // The frames travel the same channel on every backend, so every backend gets sessions here.
    // Loaded on first use: a one-shot run (the CLI's cold start) does not pay for it.
    const { AgentSessionChannel } = await import('./agent-session.js');
    return AgentSessionChannel.open(this.#channel!, WORKDIR, { abandon: () => void this.destroy() });
  }

  #take(use: 'job' | 'session'): void {
    if (this.#use) throw new SandboxError(ErrorCodes.INTERNAL, `sandbox ${this.id} already ran a ${this.#use}`);
    this.#use = use;
  }

  stats(): CgroupStats {
    return this.#launched.cgroup.stats();
  }

  oomKills(): number {
    return this.#launched.cgroup.oomKills();
  }

  memoryCurrentBytes(): number | null {
    return this.#launched.cgroup.memoryCurrentBytes();
  }

  destroy(): Promise<void> {
    this.#destroyed ??= (async () => {
      this.#channel?.fail(new SandboxError(ErrorCodes.CANCELLED, 'sandbox destroyed'));
      this.#streams?.close?.();
      await stopProcess(this.#launched.child, this.#launched.cgroup, this.#exited);
      // Only now, with every process of the sandbox gone, may another sandbox get its uid (a failed
      // teardown above keeps it held for good: one id lost beats two sandboxes sharing one).
      await this.#owner.release(this.#launched);
    })();
    return this.#destroyed;
  }

  #exitError(code: number | null, signal: NodeJS.Signals | null): SandboxError {
    const how = signal ? `was killed by ${signal}` : `exited with status ${code}`;
    const detail = this.#output.trim().split('\n').filter((line) => this.#owner.explain(line)).slice(-5).join(' | ');
    return new SandboxError(ErrorCodes.SANDBOX_START, `${this.#owner.kind} ${how} before the agent answered${detail ? `: ${detail}` : ''}`);
  }
}

/**
 * Stops a sandbox's process for good: kills its cgroup (every process that joined it), then asks the
 * process the host started to end — runner-launch's bwrap or VMM is gone already; runner-reaper
 * kills whatever is left below it, such as a jailer that had not yet joined the cgroup — and waits
 * for it (SIGKILL after a grace period). `exited` resolves once that process has ended.
 *
 * A cgroup that does not kill (bwrap through the fork server, ProcessBackend.pidNamespace) is
 * removed only after the process is killed and has ended: SECURITY: that process is bwrap's first,
 * an unreaped child of the fork server (its pid cannot have been reused); its death SIGKILLs the
 * sandbox's pid namespace init (its parent-death signal, or the fork server, a child subreaper, for
 * an init orphaned before it had set one), and the init's death makes the kernel kill every
 * process of the namespace, with no new one allowed in (docs/security.md, "Killing a sandbox").
 * The cgroup is removed once empty; one that stays populated (only if the fork server was gone as
 * well while the bwrap started) is then killed pid by pid (CgroupV1Driver.remove).
 */
export async function stopProcess(child: SandboxProcess, cgroup: Cgroup, exited: Promise<void>): Promise<void> {
  if (!cgroup.killsAll) {
    child.kill('SIGKILL');
    // Bounded: a process the kill did not reach would hold the agent's socket open for good.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise<void>((resolve) => (timer = setTimeout(resolve, STOP_GRACE_MS)))]);
    clearTimeout(timer);
    await cgroup.destroy();
    return;
  }
  await cgroup.destroy();
  child.kill('SIGTERM');
  const kill = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(kill);
}
