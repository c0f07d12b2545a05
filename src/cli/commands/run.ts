import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { Command } from 'commander';
import { openEngine } from '../../engine/open-engine.js';
import type { ExecuteRequest } from '../../engine/request.js';
import type { ExecutionResult } from '../../engine/result.js';
import { InvalidRequestError } from '../../errors.js';
import { exitWith, printJson, type CliContext } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { choiceOption, integerOption, repeatable } from '../parse.js';
import { BACKEND_CHOICES, type BackendChoice } from '../../sandbox/availability.js';

interface RunFlags {
  lang: string;
  code?: string;
  file?: string[];
  entry?: string;
  stdin?: string;
  stdinFile?: string;
  args?: string[];
  timeout?: number;
  compileTimeout?: number;
  memory?: number;
  backend?: BackendChoice;
  json?: boolean;
  base64?: boolean;
}

export function runCommand(ctx: CliContext): Command {
  return new Command('run')
    .description('run a program in a fresh sandbox; exits with the program\'s exit code')
    .requiredOption('-l, --lang <language>', 'language id or alias (see `languages`)')
    .option('-c, --code <source>', 'program source')
    .option('-f, --file <path>', 'source file (repeat for multi-file programs; the first is the entry)', repeatable)
    .option('--entry <name>', 'entry file name when several files are given')
    .option('--stdin <text>', 'text given to the program on stdin')
    .option('--stdin-file <path>', 'file whose content is given on stdin')
    .option('--args <arg...>', 'arguments for the program (or put them after --)')
    .option('-t, --timeout <ms>', 'run time limit in ms (default 10000)', integerOption('--timeout', 1))
    .option('--compile-timeout <ms>', 'compile time limit in ms (default 30000)', integerOption('--compile-timeout', 1))
    .option('-m, --memory <MB>', 'memory limit in MiB (default 256)', integerOption('--memory', 1))
    .option('--backend <name>', `isolation backend: ${BACKEND_CHOICES.join(', ')} (default auto)`, choiceOption('--backend', BACKEND_CHOICES))
    .option('--json', 'print the full result object as JSON instead of the program\'s output')
    .option('--base64', 'with --json: stdout and stderr as base64 (binary-safe) instead of UTF-8 text')
    .argument('[args...]', 'arguments for the program, after --')
    .addHelpText('after', '\nExamples:\n  infra.operator run --lang python --code "print(1)"\n  infra.operator run --lang c --file hello.c --stdin world --json\n')
    .action(
      exitWith(ctx, async (positional: string[], flags: RunFlags) => {
        const request = await toRequest(flags, positional);
        const engine = await openEngine({ ...(flags.backend ? { backend: flags.backend } : {}) });
        const result = await engine.execute(request);
        return flags.json ? reportJson(result) : reportPlain(result);
      }),
    );
}

async function toRequest(flags: RunFlags, positional: string[]): Promise<ExecuteRequest> {
  if ((flags.code === undefined) === (flags.file === undefined)) {
    throw new InvalidRequestError('--code/--file', 'give exactly one of --code or --file');
  }
  if (flags.stdin !== undefined && flags.stdinFile !== undefined) {
    throw new InvalidRequestError('--stdin/--stdin-file', 'give at most one of --stdin or --stdin-file');
  }
  const request: ExecuteRequest = {
    language: flags.lang,
    args: [...(flags.args ?? []), ...positional],
    // Plain output passes the program's bytes through untouched; JSON carries text unless asked.
    outputEncoding: flags.json && !flags.base64 ? 'utf8' : 'base64',
  };
  if (flags.code !== undefined) request.code = flags.code;
  if (flags.file) request.files = await Promise.all(flags.file.map(readSource));
  if (flags.entry !== undefined) request.entry = flags.entry;
  if (flags.stdin !== undefined) request.stdin = flags.stdin;
  if (flags.stdinFile !== undefined) request.stdin = await readText(flags.stdinFile, '--stdin-file');
  request.limits = {
    ...(flags.timeout === undefined ? {} : { timeoutMs: flags.timeout }),
    ...(flags.compileTimeout === undefined ? {} : { compileTimeoutMs: flags.compileTimeout }),
    ...(flags.memory === undefined ? {} : { memoryMb: flags.memory }),
  };
  return request;
}

async function readSource(path: string): Promise<{ name: string; content: string; encoding: 'base64' }> {
  const content = await readBytes(path, '--file');
  return { name: basename(path), content: content.toString('base64'), encoding: 'base64' };
}

async function readText(path: string, flag: string): Promise<string> {
  return (await readBytes(path, flag)).toString('utf8');
}

async function readBytes(path: string, flag: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new InvalidRequestError(flag, `cannot read '${path}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

function reportJson(result: ExecutionResult): number {
  printJson(result);
  return result.status === 'success' ? EXIT.OK : EXIT.INFRASTRUCTURE;
}

/** The program's output on ours, notes on stderr, and the program's exit code as ours. */
function reportPlain(result: ExecutionResult): number {
  if (result.status === 'failed') {
    process.stderr.write(`error: ${result.error?.message ?? 'execution failed'} (${result.error?.code})\n`);
    return EXIT.INFRASTRUCTURE;
  }
  process.stdout.write(Buffer.from(result.stdout, 'base64'));
  process.stderr.write(Buffer.from(result.stderr, 'base64'));
  const notes: string[] = [];
  if (result.compile && result.compile.exit_code !== 0) notes.push('compilation failed');
  if (result.timed_out) notes.push('time limit exceeded');
  if (result.oom_killed) notes.push('memory limit exceeded');
  if (result.truncated.stdout || result.truncated.stderr) notes.push('output truncated');
  if (notes.length > 0) process.stderr.write(`runner-codes: ${notes.join(', ')}\n`);
  return result.exit_code ?? EXIT.INFRASTRUCTURE;
}
