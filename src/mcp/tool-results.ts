import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { isRunnerError } from '../errors.js';
import type { CellResult } from '../engine/kernel.js';
import type { ExecutionResult } from '../engine/result.js';

/*
 * What the tools answer, as MCP content a model reads: text first (what it needs to decide the next
 * step: exit code, stdout, stderr, why it stopped), then the images a program made. A program that
 * failed is a result like any other; isError only where the tool could not do what was asked.
 */

type Content = CallToolResult['content'][number];

const text = (value: string): Content => ({ type: 'text', text: value });

/** Images a model can look at; other output files are named in the text. */
const IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

function section(name: string, value: string, truncated: boolean): string {
  if (value === '' && !truncated) return '';
  return `--- ${name}${truncated ? ' (truncated at the output limit)' : ''} ---\n${value}${value.endsWith('\n') || value === '' ? '' : '\n'}`;
}

/** Why the program stopped, when it was not a plain exit. */
function stopReason(result: Pick<ExecutionResult, 'timed_out' | 'oom_killed' | 'signal'>): string[] {
  return [
    ...(result.timed_out ? ['timed out (killed at its time limit)'] : []),
    ...(result.oom_killed ? ['killed: out of memory (its memory limit)'] : []),
    ...(result.signal && !result.timed_out && !result.oom_killed ? [`killed by ${result.signal}`] : []),
  ];
}

/** A one-shot or session execution: exit code, stdout, stderr, output files (PNGs as images). */
export function executionContent(result: ExecutionResult): CallToolResult {
  if (result.status === 'failed') {
    return { isError: true, content: [text(`${result.error?.code ?? 'RC_ERR_INTERNAL'}: ${result.error?.message ?? 'the execution failed'}`)] };
  }
  // A failed compile stage is the last that ran (the run stage never started).
  const compileFailed = result.compile !== undefined && result.compile.exit_code !== 0;
  const head = [
    `${compileFailed ? 'compilation failed, exit code' : 'exit code'}: ${result.exit_code ?? 'none'}`,
    ...stopReason(result),
    `time: ${compileFailed ? result.timings.compile_ms : result.timings.exec_ms} ms`,
  ];
  const files = result.outputs.map((file) => `${file.path} (${file.mime}, ${file.size} bytes${file.truncated ? ', cut at the cap' : ''})`);
  const body = [
    head.join('\n') + '\n',
    section('stdout', result.stdout, result.truncated.stdout),
    section('stderr', result.stderr, result.truncated.stderr),
    files.length > 0 ? `--- output files${result.outputs_truncated ? ' (some cut or left out at the caps)' : ''} ---\n${files.join('\n')}\n` : '',
  ].filter((part) => part !== '');
  const images: Content[] = result.outputs
    .filter((file) => IMAGE_TYPES.has(file.mime) && !file.truncated && file.content_b64 !== '')
    .map((file) => ({ type: 'image', data: file.content_b64, mimeType: file.mime }));
  return { content: [text(body.join('')), ...images] };
}

/** A stateful interpreter cell: its printed output, its error, its displayed values and figures. */
export function cellContent(result: CellResult): CallToolResult {
  const parts = [
    section('stdout', result.stdout, result.stdout_truncated),
    section('stderr', result.stderr, result.stderr_truncated),
    ...(result.timed_out ? ['the cell was interrupted at its timeout; the session\'s state lives on\n'] : []),
    ...(result.error ? [`--- error: ${result.error.name}: ${result.error.message} ---\n${result.error.traceback}\n`] : []),
  ];
  const content: Content[] = [];
  for (const bundle of result.outputs) {
    if (bundle['image/png'] !== undefined) content.push({ type: 'image', data: bundle['image/png'], mimeType: 'image/png' });
    else if (bundle['text/plain'] !== undefined) parts.push(`${bundle['text/plain']}\n`);
    else if (bundle['image/svg+xml'] !== undefined) parts.push(`(an SVG image)\n${bundle['image/svg+xml']}\n`);
    else if (bundle['application/json'] !== undefined) parts.push(`${bundle['application/json']}\n`);
    else if (bundle['text/html'] !== undefined) parts.push(`${bundle['text/html']}\n`);
  }
  const body = parts.filter((part) => part !== '').join('');
  return { content: [text(body === '' ? '(no output)' : body), ...content] };
}

/** Plain text, e.g. a listing or a confirmation. */
export function textContent(value: string): CallToolResult {
  return { content: [text(value)] };
}

/**
 * A call the tool could not carry out (an unknown language, a missing session, a path refused, a
 * limit above the server's maximum, a full queue): isError, with the service's message, which
 * names the field at fault, and its code.
 */
export function toolError(err: unknown): CallToolResult {
  if (isRunnerError(err)) {
    const hint = err.hint ? `\nhint: ${err.hint}` : '';
    return { isError: true, content: [text(`${err.code}: ${err.message}${hint}`)] };
  }
  return { isError: true, content: [text('RC_ERR_INTERNAL: the tool failed unexpectedly (the server logged why)')] };
}
