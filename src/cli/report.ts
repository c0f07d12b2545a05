import type { ExecutionResult } from '../engine/result.js';

/** The program's output on ours, and notes on stderr (`saved`: the output files written, with `run --outputs-dir`). */
export function reportPlain(result: ExecutionResult, saved?: string[]): void {
  if (result.status === 'failed') {
    process.stderr.write(`error: ${result.error?.message ?? 'execution failed'} (${result.error?.code})\n`);
    return;
  }
  process.stdout.write(Buffer.from(result.stdout, 'base64'));
  process.stderr.write(Buffer.from(result.stderr, 'base64'));
  const notes: string[] = [];
  if (result.compile && result.compile.exit_code !== 0) notes.push('compilation failed');
  if (result.timed_out) notes.push('time limit exceeded');
  if (result.oom_killed) notes.push('memory limit exceeded');
  if (result.truncated.stdout || result.truncated.stderr) notes.push('output truncated');
  if (saved) notes.push(...saved.map((path) => `wrote ${path}`));
  else if (result.outputs.length > 0) notes.push(`${result.outputs.length} file(s) under outputs/ not saved (--outputs-dir DIR saves them)`);
  if (result.outputs_truncated) notes.push('output files cut at --max-output-files/--max-output-files-bytes');
  if (notes.length > 0) process.stderr.write(`runner-codes: ${notes.join(', ')}\n`);
}
