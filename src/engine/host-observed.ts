import { performance } from 'node:perf_hooks';
import { ErrorCodes, RunnerError } from '../errors.js';
import type { CollectedFile, JobMessage, StageReport } from '../protocol/messages.js';
import type { Sandbox } from '../sandbox/backend.js';
import { killedStage, reconcile } from '../protocol/observed-stages.js';
import { jobBudgetMs } from './job.js';

export { JOB_SLACK_MS, reconcile, STAGE_SLACK_MS } from '../protocol/observed-stages.js';

/** What an execution did, with the facts the host observes itself already applied. */
export interface ObservedRun {
  stages: StageReport[];
  /** OOM kills the sandbox's cgroup counted (the kernel's own counter, not the agent's word). */
  oomKills: number;
  /** Wall time of the job from the host's side: from sending the job to its result (or the kill). */
  hostWallMs: number;
  /** What the job's collect brought back (none after the host's deadline), and whether the agent cut it. */
  outputs?: { files: CollectedFile[]; truncated: boolean };
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
    return { stages: reconcile(job, result.stages, hostWallMs), oomKills: sandbox.oomKills(), hostWallMs, ...(result.outputs ? { outputs: { files: result.outputs, truncated: result.outputs_truncated === true } } : {}) };
  } catch (err) {
    if (!(err instanceof RunnerError) || err.code !== ErrorCodes.AGENT_TIMEOUT) throw err;
    // The host's deadline passed without a result: the job ran out of time, whatever the agent
    // (silent, stuck or lying) would say. Nothing of it may go on running.
    const oomKills = sandbox.oomKills();
    await sandbox.destroy();
    const hostWallMs = performance.now() - started;
    const last = job.stages[job.stages.length - 1]!;
    return { stages: [killedStage(last.name, hostWallMs)], oomKills, hostWallMs };
  }
}
