import { performance } from 'node:perf_hooks';
import type { JobMessage, JobStage } from '../protocol/messages.js';
import type { AgentSession } from '../sandbox/agent-session.js';
import type { Sandbox } from '../sandbox/backend.js';
import type { OutputStream, StreamHandlers } from './exec-events.js';
import type { ExecInput } from './exec-input.js';
import { killedStage, reconcile, type ObservedRun } from './host-observed.js';
import { jobBudgetMs } from './job.js';

export interface StreamedRunOptions {
  handlers: StreamHandlers;
  /** Interactive: the run stage's stdin stays open and takes this input (and its signals). */
  input?: ExecInput;
  /** All stdin of one execution, the request's own included. */
  maxStdinBytes: number;
}

// Until agentv2's Sandbox.openSession() is merged, the method is reached through this one cast.
function openSession(sandbox: Sandbox): Promise<AgentSession> {
  return (sandbox as Sandbox & { openSession(): Promise<AgentSession> }).openSession();
}

/** Each stage's output cap, per stream, as the host counts what it passes on. */
class StreamedBytes {
  readonly #stages: Map<string, JobStage>;
  readonly #used = new Map<string, number>();

  constructor(stages: JobStage[]) {
    this.#stages = new Map(stages.map((stage) => [stage.name, stage]));
  }

  has(stage: string): boolean {
    return this.#stages.has(stage);
  }

  /** What of `data` is within the stage's cap (all, a head, or nothing). */
  take(stage: string, stream: OutputStream, data: Buffer): Buffer {
    const limit = this.#stages.get(stage)?.output_limit ?? 0;
    const key = `${stage}/${stream}`;
    const used = this.#used.get(key) ?? 0;
    const kept = data.subarray(0, Math.max(0, limit - used));
    this.#used.set(key, used + kept.length);
    return kept;
  }
}

/**
 * SECURITY: a job run as one streamed exec in a protocol-2 session (files put over frames, then
 * the stages), held to the same host-side facts as runObserved: the host's own deadline (every
 * stage's timeout plus grace; past it the sandbox is destroyed and the job reported timed out), its
 * wall clock, the cgroup's OOM count. The agent's output frames pass on only for the job's own
 * stages and only within each stage's output cap as the host counts it, whatever the agent sends.
 */
export async function runStreamed(sandbox: Sandbox, job: JobMessage, options: StreamedRunOptions): Promise<ObservedRun> {
  const started = performance.now();
  const budgetMs = jobBudgetMs(job);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'deadline'>((resolve) => {
    timer = setTimeout(() => resolve('deadline'), budgetMs);
  });
  const work = (async () => {
    const session = await openSession(sandbox);
    await Promise.all(job.files.map((file) => session.put(file.path, Buffer.from(file.content_b64, 'base64'), { mode: file.executable ? 0o755 : 0o644, overwrite: false })));
    const bytes = new StreamedBytes(job.stages);
    let seq = 0;
    const exec = session.exec(job.stages, { stream: true, interactive: options.input !== undefined }, {
      onStage: (stage) => {
        if (bytes.has(stage)) options.handlers.onStage?.(stage);
      },
      onOutput: (stream, data, _agentSeq, stage) => {
        if (!bytes.has(stage)) return;
        const kept = bytes.take(stage, stream, data);
        if (kept.length > 0) options.handlers.onOutput?.(stream, kept, seq++, stage);
      },
    });
    options.input?.attach({ stdin: (data, eof) => exec.stdin(data, eof), signal: (signal) => exec.signal(signal) }, options.maxStdinBytes);
    return exec.done;
  })();
  try {
    const outcome = await Promise.race([work, deadline]);
    if (outcome !== 'deadline') {
      const hostWallMs = performance.now() - started;
      return { stages: reconcile(job, outcome, hostWallMs), oomKills: sandbox.stats().oomKills, hostWallMs };
    }
    // The host's deadline passed first: the job ran out of time, whatever the agent would say.
    const oomKills = sandbox.stats().oomKills;
    await sandbox.destroy();
    work.catch(() => undefined);
    const hostWallMs = performance.now() - started;
    return { stages: [killedStage(job.stages[job.stages.length - 1]!.name, hostWallMs)], oomKills, hostWallMs };
  } finally {
    clearTimeout(timer);
    options.input?.detach();
  }
}
