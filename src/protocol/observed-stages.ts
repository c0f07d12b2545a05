import { ErrorCodes, RunnerError } from '../errors.js';
import type { JobStage, StageReport } from './messages.js';

/**
 * The host-observed rules of docs/protocol.md, for anything that runs stages: a version 1 job
 * (src/engine/host-observed.ts) and each exec of a session (src/sandbox/agent-session.ts); protocol
 * rules, so both layers share them.
 *
 * How much longer than its stages' timeouts a run may take, as the host measures it, before the
 * host itself calls it timed out: per stage, process start and the agent's drain grace after its
 * kill (agent/src/stage.c, 1 s) with room for a loaded host; per run, writing the files and the
 * frames.
 */
export const STAGE_SLACK_MS = 1500;
export const JOB_SLACK_MS = 1500;
/** Past every stage's timeout plus this without an answer, the host stops waiting for the agent. */
export const DEADLINE_SLACK_MS = 5000;

/** Wall-clock budget of a run on the host side: every stage's timeout plus grace for start and teardown. */
export function stagesBudgetMs(stages: readonly JobStage[]): number {
  return stages.reduce((sum, s) => sum + s.timeout_ms, 0) + DEADLINE_SLACK_MS;
}

/**
 * SECURITY: checks the agent's stage reports against what was asked and the host's clock; the
 * agent runs beside the code it reports on, so where the two disagree, the host wins.
 */
export function reconcile(run: { stages: readonly JobStage[] }, reports: StageReport[], hostWallMs: number): StageReport[] {
  if (reports.length === 0 || reports.length > run.stages.length || reports.some((r, i) => r.name !== run.stages[i]!.name)) {
    throw new RunnerError(ErrorCodes.AGENT_PROTOCOL, `the agent reported stages [${reports.map((r) => r.name).join(', ')}] for a job of [${run.stages.map((s) => s.name).join(', ')}]`);
  }
  // No stage can have taken longer than the whole job did.
  const stages = reports.map((r) => ({ ...r, wall_ms: Math.min(r.wall_ms, hostWallMs) }));
  const allowed = run.stages.slice(0, stages.length).reduce((sum, s) => sum + s.timeout_ms + STAGE_SLACK_MS, JOB_SLACK_MS);
  const last = stages[stages.length - 1]!;
  if (hostWallMs > allowed && !stages.some((s) => s.timed_out)) {
    // Longer than every reported stage's timeout allows: one of them ran out of time. The last one
    // is where the job stopped; it was killed (the agent kills a stage at its timeout).
    Object.assign(last, { timed_out: true, exit_code: 128 + SIGKILL, signal: SIGKILL, wall_ms: Math.max(last.wall_ms, run.stages[stages.length - 1]!.timeout_ms) });
  }
  return stages;
}

const SIGKILL = 9;

/** The report of a stage the host gave up on (its deadline passed without an answer). */
export function killedStage(name: string, wallMs: number): StageReport {
  return {
    name, exit_code: 128 + SIGKILL, signal: SIGKILL, timed_out: true,
    stdout_b64: '', stderr_b64: '', stdout_truncated: false, stderr_truncated: false,
    wall_ms: wallMs, cpu_ms: 0, max_rss_kb: 0,
  };
}
