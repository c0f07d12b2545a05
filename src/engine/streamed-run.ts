import { performance } from 'node:perf_hooks';
import { SessionRequestError } from '../errors.js';
import type { CollectedFile, JobCollect, JobMessage, JobStage } from '../protocol/messages.js';
import type { AgentSession, ExecHandlers } from '../sandbox/agent-session.js';
import type { Sandbox } from '../sandbox/backend.js';
import type { OutputStream, StreamHandlers } from './exec-events.js';
import type { ExecInput } from './exec-input.js';
import type { ObservedRun } from './host-observed.js';

export interface StreamedRunOptions {
  handlers: StreamHandlers;
  /** Interactive: the run stage's stdin stays open and takes this input (and its signals). */
  input?: ExecInput;
  /** All stdin of one execution, the request's own included. */
  maxStdinBytes: number;
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
 * SECURITY: an exec's output and stage frames as the caller's handlers get them: only for the
 * exec's own stages, only within each stage's output cap as the host counts it (whatever the agent
 * sends), numbered by the host from 0.
 */
export function streamedHandlers(stages: JobStage[], handlers: StreamHandlers): ExecHandlers {
  const bytes = new StreamedBytes(stages);
  let seq = 0;
  return {
    onStage: (stage) => {
      if (bytes.has(stage)) handlers.onStage?.(stage);
    },
    onOutput: (stream, data, _agentSeq, stage) => {
      if (!bytes.has(stage)) return;
      const kept = bytes.take(stage, stream, data);
      if (kept.length > 0) handlers.onOutput?.(stream, kept, seq++, stage);
    },
  };
}

/**
 * The job's output files through the session's file frames, as version 1's `collect` returns them:
 * regular files under the directory (never through a symlink: the agent lists them, never follows
 * them), sorted, within the file and byte caps; a cut is flagged.
 */
async function collectOutputs(session: AgentSession, collect: JobCollect): Promise<{ files: CollectedFile[]; truncated: boolean }> {
  let listing: Awaited<ReturnType<AgentSession['list']>>;
  try {
    listing = await session.list(collect.dir, { recursive: true, maxEntries: collect.max_files * 4 + 16 });
  } catch (err) {
    if (err instanceof SessionRequestError && (err.detail.agentCode === 'not_found' || err.detail.agentCode === 'not_dir')) return { files: [], truncated: false };
    throw err;
  }
  const regular = listing.entries.filter((entry) => entry.type === 'file').sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  let truncated = listing.truncated || regular.length > collect.max_files;
  let budget = collect.max_bytes;
  const files: CollectedFile[] = [];
  for (const entry of regular.slice(0, collect.max_files)) {
    const path = `${collect.dir}/${entry.path}`;
    if (entry.size > budget) {
      files.push({ path, size: entry.size, content_b64: '', truncated: true });
      truncated = true;
      continue;
    }
    const file = await session.get(path, budget);
    budget -= file.content.length;
    files.push({ path, size: file.size, content_b64: file.content.toString('base64'), truncated: false });
  }
  return { files, truncated };
}

/**
 * SECURITY: a job run as one streamed exec in a protocol-2 session: its files put over frames, its
 * stages, its output files collected over frames. The session holds the exec to the host's own
 * deadline and reconciles its report with the host's clock (protocol/observed-stages.ts), as
 * runObserved does for a job; the cgroup's OOM count is the host's. The agent's output frames pass
 * on only for the job's own stages and only within each stage's output cap as the host counts it,
 * whatever the agent sends.
 */
export async function runStreamed(sandbox: Sandbox, job: JobMessage, options: StreamedRunOptions): Promise<ObservedRun> {
  const started = performance.now();
  const session = await sandbox.openSession();
  await Promise.all(job.files.map((file) => session.put(file.path, Buffer.from(file.content_b64, 'base64'), { mode: file.executable ? 0o755 : 0o644, overwrite: false })));
  const exec = session.exec(job.stages, { stream: true, interactive: options.input !== undefined }, streamedHandlers(job.stages, options.handlers));
  options.input?.attach({ stdin: (data, eof) => exec.stdin(data, eof), signal: (signal) => exec.signal(signal) }, options.maxStdinBytes);
  try {
    const stages = await exec.done;
    const hostWallMs = performance.now() - started;
    const oomKills = sandbox.oomKills();
    // A sandbox the session abandoned (the exec overran the host's deadline) has no files to give.
    const outputs = job.collect && sandbox.alive ? await collectOutputs(session, job.collect) : undefined;
    return { stages, oomKills, hostWallMs, ...(outputs ? { outputs } : {}) };
  } finally {
    options.input?.detach();
  }
}
