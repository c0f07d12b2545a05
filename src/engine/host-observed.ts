import { performance } from 'node:perf_hooks';
import { ErrorCodes, RunnerError } from '../errors.js';
import type { JobMessage, StageReport } from '../protocol/messages.js';
import type { Sandbox } from '../sandbox/backend.js';
import { jobBudgetMs } from './job.js';

/**
 * How much longer than its stages' timeouts a job may take, as the host measures it, before the
 * host itself calls it timed out: per stage, process start and the agent's drain grace after its
 * kill (agent/src/stage.c, 1 s) with room for a loaded host; per job, writing the files and the
 * frames.
 */
export const STAGE_SLACK_MS = 1500;
export const JOB_SLACK_MS = 1500;

/** What an execution did, with the facts the host observes itself already applied. */
export interface ObservedRun {
  stages: StageReport[];
  /** OOM kills the sandbox's cgroup counted (the kernel's own counter, not the agent's word). */
  oomKills: number;
  /** Wall time of the job from the host's side: from sending the job to its result (or the kill). */
  hostWallMs: number;
}

/**
 * SECURITY: runs a job and keeps the agent's report honest where the host can see for itself.
 * The agent runs inside the sandbox beside the code it reports on; whatever it says, the host
 * measures the job's wall time, enforces its own deadline (every stage's timeout plus grace: past
 * it the cgroup is killed and the job reported timed out), marks a job that took longer than its
 * stages may as timed out, and takes OOM kills from the cgroup. Where the two disagree, the host wins.
 */
export async function runObserved(sandbox: Sandbox, job: JobMessage): Promise<ObservedRun> {
  const started = performance.now();
  try {
    const result = await sandbox.run(job, jobBudgetMs(job));
    const hostWallMs = performance.now() - started;
    return { stages: reconcile(job, result.stages, hostWallMs), oomKills: sandbox.stats().oomKills, hostWallMs };
  } catch (err) {
    if (!(err instanceof RunnerError) || err.code !== ErrorCodes.AGENT_TIMEOUT) throw err;
    // The host's deadline passed without a result: the job ran out of time, whatever the agent
    // (silent, stuck or lying) would say. Nothing of it may go on running.
    const oomKills = sandbox.stats().oomKills;
    await sandbox.destroy();
    const hostWallMs = performance.now() - started;
    const last = job.stages[job.stages.length - 1]!;
    return { stages: [killedStage(last.name, hostWallMs)], oomKills, hostWallMs };
  }
}

/** Checks the agent's stage reports against the job and the host's clock. */
export function reconcile(job: JobMessage, reports: StageReport[], hostWallMs: number): StageReport[] {
  if (reports.length === 0 || reports.length > job.stages.length || reports.some((r, i) => r.name !== job.stages[i]!.name)) {
    throw new RunnerError(ErrorCodes.AGENT_PROTOCOL, `the agent reported stages [${reports.map((r) => r.name).join(', ')}] for a job of [${job.stages.map((s) => s.name).join(', ')}]`);
  }
  // No stage can have taken longer than the whole job did.
  const stages = reports.map((r) => ({ ...r, wall_ms: Math.min(r.wall_ms, hostWallMs) }));
  const allowed = job.stages.slice(0, stages.length).reduce((sum, s) => sum + s.timeout_ms + STAGE_SLACK_MS, JOB_SLACK_MS);
  const last = stages[stages.length - 1]!;
  if (hostWallMs > allowed && !stages.some((s) => s.timed_out)) {
    // Longer than every reported stage's timeout allows: one of them ran out of time. The last one
    // is where the job stopped; it was killed (the agent kills a stage at its timeout).
    Object.assign(last, { timed_out: true, exit_code: 128 + SIGKILL, signal: SIGKILL, wall_ms: Math.max(last.wall_ms, job.stages[stages.length - 1]!.timeout_ms) });
  }
  return stages;
}

const SIGKILL = 9;

/** The report of a stage the host killed at its own deadline. */
export function killedStage(name: string, wallMs: number): StageReport {
  return {
    name, exit_code: 128 + SIGKILL, signal: SIGKILL, timed_out: true,
    stdout_b64: '', stderr_b64: '', stdout_truncated: false, stderr_truncated: false,
    wall_ms: wallMs, cpu_ms: 0, max_rss_kb: 0,
  };
}
