import type { ExecuteRequest, SubmittedFile } from '../engine/request.js';
import type { ExecutionResult, StageResult } from '../engine/result.js';
import { InvalidRequestError } from '../errors.js';
import type { ImageStore } from '../images/store.js';
import { findLanguage } from '../languages/lookup.js';
import type { LanguageSpec } from '../languages/types.js';
import type { PistonExecuteBody, PistonStage } from './schemas/piston.js';

/**
 * Translation between Piston v2's shapes and ours (REFERENCE §6): Piston clients work unchanged.
 * Piston's names: memory limits in bytes (-1 = default), timeouts in ms (-1 = default).
 */

/** A language known to Piston clients: ours, with the installed version. */
export function resolvePistonRuntime(body: { language: string; version?: string | undefined }, images: ImageStore): { language: LanguageSpec; version: string } {
  const language = findLanguage(body.language);
  const version = language ? images.manifest(language.image)?.versions[language.id] : undefined;
  const wanted = body.version ?? '*';
  if (!language || !version || !versionMatches(version, wanted)) {
    throw new InvalidRequestError('language', `${body.language}-${wanted} runtime is unknown`);
  }
  return { language, version };
}

/** `*`, an exact version, or a prefix of whole components (`3`, `3.11`). */
export function versionMatches(version: string, wanted: string): boolean {
  const w = wanted.trim().replace(/^[v=^~]/, '');
  return w === '*' || w === 'x' || version === w || version.startsWith(`${w}.`);
}

function pistonFiles(body: PistonExecuteBody, language: LanguageSpec): SubmittedFile[] {
  return body.files.map((file, i) => {
    // Piston allows unnamed files; compilers need the right extension, so the first gets ours.
    const name = file.name ?? (i === 0 ? language.fileName : `file${i}.code`);
    if (file.encoding === 'hex') {
      if (!/^([0-9a-fA-F]{2})*$/.test(file.content)) throw new InvalidRequestError(`files[${i}].content`, 'is not valid hex');
      return { name, content: Buffer.from(file.content, 'hex').toString('base64'), encoding: 'base64' };
    }
    return { name, content: file.content, ...(file.encoding ? { encoding: file.encoding } : {}) };
  });
}

const given = (value: number | undefined): number | undefined => (value === undefined || value < 0 ? undefined : value);

export function pistonToRequest(body: PistonExecuteBody, language: LanguageSpec): ExecuteRequest {
  const runMemory = given(body.run_memory_limit);
  const compileMemory = given(body.compile_memory_limit);
  // One sandbox serves both stages, so it gets the larger of the two memory limits.
  const memoryBytes = runMemory === undefined && compileMemory === undefined ? undefined : Math.max(runMemory ?? 0, compileMemory ?? 0);
  const request: ExecuteRequest = {
    language: language.id,
    files: pistonFiles(body, language),
    limits: {
      ...(given(body.run_timeout) === undefined ? {} : { timeoutMs: given(body.run_timeout)! }),
      ...(given(body.compile_timeout) === undefined ? {} : { compileTimeoutMs: given(body.compile_timeout)! }),
      ...(memoryBytes === undefined ? {} : { memoryMb: Math.max(16, Math.ceil(memoryBytes / (1024 * 1024))) }),
    },
  };
  if (body.stdin !== undefined) request.stdin = body.stdin;
  if (body.args !== undefined) request.args = body.args;
  return request;
}

/** Piston's status: TO timeout, SG signal, OL/EL output limits, RE non-zero exit, null fine. */
function statusOf(stage: StageResult): string | null {
  if (stage.timed_out) return 'TO';
  if (stage.signal) return 'SG';
  if (stage.truncated.stdout) return 'OL';
  if (stage.truncated.stderr) return 'EL';
  if (stage.exit_code !== null && stage.exit_code !== 0) return 'RE';
  return null;
}

function messageOf(stage: StageResult): string | null {
  if (stage.timed_out) return 'Timeout';
  if (stage.oom_killed) return 'Memory limit exceeded';
  if (stage.truncated.stdout) return 'stdout length exceeded';
  if (stage.truncated.stderr) return 'stderr length exceeded';
  return null;
}

export function pistonStage(stage: StageResult): PistonStage {
  return {
    stdout: stage.stdout,
    stderr: stage.stderr,
    output: stage.stdout + stage.stderr,
    code: stage.signal ? null : stage.exit_code,
    signal: stage.signal,
    message: messageOf(stage),
    status: statusOf(stage),
    cpu_time: stage.cpu_time_ms,
    wall_time: stage.wall_time_ms,
    memory: stage.memory_peak_bytes,
  };
}

/** The run stage of a result, or an empty stage when compilation failed (as Piston reports it). */
export function runStageOf(result: ExecutionResult): StageResult {
  if (result.timings.exec_ms > 0 || !result.compile || result.compile.exit_code === 0) {
    const { stdout, stderr, exit_code, signal, timed_out, oom_killed, truncated, cpu_time_ms, memory_peak_bytes } = result;
    return { stdout, stderr, exit_code, signal, timed_out, oom_killed, truncated, cpu_time_ms, memory_peak_bytes, wall_time_ms: result.timings.exec_ms };
  }
  return { stdout: '', stderr: '', exit_code: null, signal: null, timed_out: false, oom_killed: false, truncated: { stdout: false, stderr: false }, wall_time_ms: 0, cpu_time_ms: 0, memory_peak_bytes: 0 };
}
