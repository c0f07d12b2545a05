import type { ExecutionResult } from '../engine/result.js';

/** The program's output on ours, and notes on stderr. */
export function reportPlain(result: ExecutionResult): void {
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
  if (notes.length > 0) process.stderr.write(`runner-codes: ${notes.join(', ')}\n`);
}
