import type { JobStage } from '../../protocol/messages.js';
import type { AgentSession } from '../../sandbox/agent-session.js';
import type { Sandbox } from '../../sandbox/backend.js';
import type { StreamHandlers } from '../exec-events.js';
import type { ExecInput } from '../exec-input.js';
import type { ObservedRun } from '../host-observed.js';
import { streamedHandlers } from '../streamed-run.js';

const SIGKILL = 9;

/** An exec's stages as the host observed them, and whether its caller cancelled it. */
export type ExecOutcome = ObservedRun & { cancelled: boolean };

/**
 * SECURITY: runs stages in a session with the facts the host observes itself: AgentSession enforces
 * the host's deadline (every stage's timeout plus grace; past it the sandbox is abandoned) and checks
 * the reports against the clock; here the OOM kills come from the sandbox's cgroup (its count across
 * the exec), not the agent's word. Aborting `signal` kills the exec's process group; the session
 * lives on.
 */
export async function runInSession(
  sandbox: Sandbox,
  agent: AgentSession,
  stages: JobStage[],
  signal?: AbortSignal,
  interaction: { stream?: StreamHandlers; input?: ExecInput; maxStdinBytes?: number } = {},
): Promise<ExecOutcome> {
  const started = performance.now();
  const oomBefore = sandbox.oomKills();
  const { stream, input } = interaction;
  // Streamed: output and stage frames while it runs, held to the caps on the host (streamed-run.ts);
  // interactive: the last stage's stdin stays open for `input`.
  const exec = stream || input
    ? agent.exec(stages, { stream: stream !== undefined, interactive: input !== undefined }, streamedHandlers(stages, stream ?? {}))
    : agent.exec(stages);
  input?.attach({ stdin: (data, eof) => exec.stdin(data, eof), signal: (n) => exec.signal(n) }, interaction.maxStdinBytes ?? Infinity);
  let cancelled = false;
  const onAbort = (): void => {
    cancelled = true;
    exec.signal(SIGKILL);
  };
  if (signal?.aborted) onAbort();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const reports = await exec.done;
    return { stages: reports, oomKills: sandbox.oomKills() - oomBefore, hostWallMs: performance.now() - started, cancelled };
  } finally {
    signal?.removeEventListener('abort', onAbort);
    input?.detach();
  }
}
