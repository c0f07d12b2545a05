import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { JobStage, StageReport } from '../../protocol/messages.js';
import type { Sandbox } from '../../sandbox/backend.js';
import { killedStage, reconcile, type ObservedRun } from '../host-observed.js';
import { jobBudgetMs } from '../job.js';
import type { AgentSession } from './agent-session-types.js';

const SIGKILL = 9;
/** How long a killed exec's agent has to report before the host gives up on the whole session. */
const KILL_GRACE_MS = 2000;

/** Why an exec ended without its own result. */
export type ExecOutcome = ObservedRun & { cancelled: boolean; agentStuck: boolean };

/**
 * SECURITY: runs stages in a session the way runObserved runs a one-shot job: the host measures the
 * wall time, enforces its own deadline (every stage's timeout plus grace: past it the exec's process
 * group gets SIGKILL) and takes OOM kills from the sandbox's cgroup (the difference across the exec).
 * An agent that does not report even after the kill is stuck: `agentStuck` tells the caller to end
 * the session, whose processes cannot be trusted to stop otherwise.
 */
export async function runInSession(sandbox: Sandbox, agent: AgentSession, stages: JobStage[], signal?: AbortSignal): Promise<ExecOutcome> {
  const started = performance.now();
  const oomBefore = sandbox.stats().oomKills;
  const exec = agent.exec(stages);
  let cancelled = false;
  const kill = (): void => {
    try {
      exec.signal(SIGKILL);
    } catch {
      // the exec has ended meanwhile
    }
  };
  const onAbort = (): void => {
    cancelled = true;
    kill();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted) onAbort();
  const deadline = new AbortController();
  try {
    const reports = await Promise.race([exec.done, sleep(jobBudgetMs({ stages }), undefined, { signal: deadline.signal })]);
    const hostWallMs = performance.now() - started;
    const oomKills = sandbox.stats().oomKills - oomBefore;
    if (reports) return { stages: reconcile({ stages }, reports, hostWallMs), oomKills, hostWallMs, cancelled, agentStuck: false };
    // The host's deadline passed without a result: the exec ran out of time, whatever the agent says.
    kill();
    const late = await Promise.race([exec.done.catch(() => undefined), sleep(KILL_GRACE_MS, undefined)]);
    const wall = performance.now() - started;
    const last = stages[stages.length - 1]!;
    return { stages: [timedOut(late, last.name, wall)], oomKills: sandbox.stats().oomKills - oomBefore, hostWallMs: wall, cancelled, agentStuck: late === undefined };
  } finally {
    deadline.abort();
    signal?.removeEventListener('abort', onAbort);
  }
}

/** The last stage as the host saw it end at its deadline: the agent's late report if any, marked timed out. */
function timedOut(late: StageReport[] | undefined, name: string, wallMs: number): StageReport {
  const report = late?.[late.length - 1];
  if (!report) return killedStage(name, wallMs);
  return { ...report, timed_out: true, wall_ms: Math.min(report.wall_ms, wallMs) };
}
