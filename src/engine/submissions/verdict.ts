import type { ExecutionResult } from '../result.js';

/**
 * The comparison rule (docs/api.md, "Submissions"): trailing whitespace of each line (spaces, tabs,
 * `\r`) and trailing newlines at the end are ignored; everything else must match exactly.
 */
export function normalizedOutput(text: string): string {
  return text
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')
    .replace(/\n+$/, '');
}

/** Whether the run stage ended normally: compiled, exit 0, no signal, no time or memory limit hit. */
export function finishedNormally(result: ExecutionResult): boolean {
  const compile = result.compile;
  if (compile && (compile.exit_code !== 0 || compile.signal !== null || compile.timed_out || compile.oom_killed)) return false;
  return result.status === 'success' && result.exit_code === 0 && result.signal === null && !result.timed_out && !result.oom_killed;
}

/**
 * The verdict of a result against the expected output, or undefined when there is nothing to judge:
 * no expected output, or a run that did not finish normally (its Judge0 status says why). `stdout` is
 * compared as text; base64 output (output_encoding) is decoded first.
 */
export function verdictOf(result: ExecutionResult, expected: string | undefined, encoding: 'utf8' | 'base64' = 'utf8'): 'accepted' | 'wrong_answer' | undefined {
  if (expected === undefined || !finishedNormally(result)) return undefined;
  const stdout = encoding === 'base64' ? Buffer.from(result.stdout, 'base64').toString('utf8') : result.stdout;
  return normalizedOutput(stdout) === normalizedOutput(expected) ? 'accepted' : 'wrong_answer';
}
