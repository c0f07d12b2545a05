import { Buffer } from 'node:buffer';
import type { ExecutionResult, StageResult } from '../engine/result.js';

/** The first `max` bytes of a UTF-8 string, never cutting a character in two. */
function cut(text: string, max: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= max) return text;
  let end = max;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8');
}

function boundStage<T extends Pick<StageResult, 'stdout' | 'stderr' | 'truncated'>>(stage: T, max: number): T {
  const stdout = cut(stage.stdout, max);
  const stderr = cut(stage.stderr, max);
  if (stdout === stage.stdout && stderr === stage.stderr) return stage;
  return { ...stage, stdout, stderr, truncated: { stdout: stage.truncated.stdout || stdout !== stage.stdout, stderr: stage.truncated.stderr || stderr !== stage.stderr } };
}

/**
 * A result whose stdout and stderr (top level and the compile stage) keep at most `max` bytes each, with
 * the `truncated` flags set where they were cut: what the queue stores per finished job is bounded.
 */
export function boundResult(result: ExecutionResult, max: number | undefined): ExecutionResult {
  if (max === undefined) return result;
  const top = boundStage(result as ExecutionResult & Pick<StageResult, 'stdout' | 'stderr' | 'truncated'>, max);
  return {
    ...top,
    ...(result.compile ? { compile: boundStage(result.compile, max) } : {}),
  };
}
