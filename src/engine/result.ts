import { constants } from 'node:os';
import type { Static, TObject } from 'typebox';
import type { RunnerError } from '../errors.js';
import type { StageReport } from '../protocol/messages.js';
import type { ExecutionResultSchema, OutputFileSchema, StageOutcomeFields, StageResultSchema } from './result-schema.js';

/** What a stage's program did: shared by each stage and the top level of the result. */
export type StageOutcome = Static<TObject<typeof StageOutcomeFields>>;
/** One stage (compile or run) as callers see it. */
export type StageResult = Static<typeof StageResultSchema>;
/** The result of one execution (result-schema.ts says what each field holds). */
export type ExecutionResult = Static<typeof ExecutionResultSchema>;
/** A file the program left under outputs/. */
export type OutputFile = Static<typeof OutputFileSchema>;

const SIGNAL_NAMES = new Map<number, string>(Object.entries(constants.signals).map(([name, num]) => [num, name]));
const round = (ms: number): number => Math.round(ms * 100) / 100;

export function stageResult(report: StageReport, encoding: 'utf8' | 'base64', oomKilled: boolean): StageResult {
  const decode = (b64: string): string => (encoding === 'base64' ? b64 : Buffer.from(b64, 'base64').toString('utf8'));
  return {
    stdout: decode(report.stdout_b64),
    stderr: decode(report.stderr_b64),
    exit_code: report.exit_code,
    signal: report.signal ? (SIGNAL_NAMES.get(report.signal) ?? `SIG${report.signal}`) : null,
    timed_out: report.timed_out,
    oom_killed: oomKilled,
    truncated: { stdout: report.stdout_truncated, stderr: report.stderr_truncated },
    wall_time_ms: round(report.wall_ms),
    cpu_time_ms: round(report.cpu_ms),
    memory_peak_bytes: report.max_rss_kb * 1024,
  };
}

export interface ResultContext {
  traceId: string;
  language: string;
  version: string | null;
  loadMs: number;
  totalMs: number;
}

/**
 * Builds the caller's result from the agent's stage reports. `oomKills` (from the cgroup) marks the
 * last stage that ran: the OOM killer acts on the whole sandbox, and that is the stage it hit. In
 * a VM the guest kernel's own count comes with each stage instead.
 */
export function successResult(
  ctx: ResultContext,
  reports: StageReport[],
  encoding: 'utf8' | 'base64',
  oomKills: number,
  outputs: { files: OutputFile[]; truncated: boolean } = { files: [], truncated: false },
): ExecutionResult {
  const stages = reports.map((report, i) => stageResult(report, encoding, (oomKills > 0 && i === reports.length - 1) || (report.oom_kills ?? 0) > 0));
  const compileIndex = reports.findIndex((r) => r.name === 'compile');
  const compile = compileIndex >= 0 ? stages[compileIndex] : undefined;
  const last = stages[stages.length - 1];
  const run = reports[reports.length - 1]?.name === 'run' ? last : undefined;
  const result = baseResult(ctx, 'success', {
    compile_ms: compile?.wall_time_ms ?? 0,
    exec_ms: run?.wall_time_ms ?? 0,
  });
  if (last) {
    Object.assign(result, {
      stdout: last.stdout,
      stderr: last.stderr,
      exit_code: last.exit_code,
      signal: last.signal,
      timed_out: last.timed_out,
      oom_killed: last.oom_killed,
      truncated: last.truncated,
      cpu_time_ms: last.cpu_time_ms,
      memory_peak_bytes: last.memory_peak_bytes,
    });
  }
  result.outputs = outputs.files;
  result.outputs_truncated = outputs.truncated;
  if (compile) result.compile = compile;
  return result;
}

export function failedResult(ctx: ResultContext, error: RunnerError): ExecutionResult {
  const result = baseResult(ctx, 'failed', { compile_ms: 0, exec_ms: 0 });
  result.error = { code: error.code, message: error.message };
  return result;
}

function baseResult(ctx: ResultContext, status: 'success' | 'failed', ms: { compile_ms: number; exec_ms: number }): ExecutionResult {
  return {
    trace_id: ctx.traceId,
    status,
    language: ctx.language,
    version: ctx.version,
    stdout: '',
    stderr: '',
    exit_code: null,
    signal: null,
    timed_out: false,
    oom_killed: false,
    truncated: { stdout: false, stderr: false },
    load_time: `${Math.round(ctx.loadMs)}ms`,
    exec_time: `${Math.round(ms.exec_ms)}ms`,
    timings: { load_ms: round(ctx.loadMs), compile_ms: ms.compile_ms, exec_ms: ms.exec_ms, total_ms: round(ctx.totalMs) },
    cpu_time_ms: 0,
    memory_peak_bytes: 0,
    outputs: [],
    outputs_truncated: false,
  };
}
