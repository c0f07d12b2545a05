import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { LIMIT_OPTIONS, type LimitRequest } from '../engine/limits.js';
import type { MaximaSettings } from '../engine/maxima.js';
import type { ExecuteRequest } from '../engine/request.js';
import { ErrorCodes, InvalidRequestError, isRunnerError } from '../errors.js';
import type { BackendChoice } from '../sandbox/backend-names.js';
import { numberFlag } from './parse.js';
import { readCapped, stdinIsPiped, type ReadLimit } from './stdin.js';

/** `-` as a path: our own stdin. */
const STDIN_PATH = '-';

export interface RunFlags {
  lang: string;
  code?: string;
  file?: string[];
  entry?: string;
  /** Text, or false with --no-stdin. */
  stdin?: string | false;
  stdinFile?: string;
  args?: string[];
  env?: string[];
  backend?: BackendChoice;
  /** A digest or name:tag pinning the image. */
  image?: string;
  json?: boolean;
  base64?: boolean;
}

/** `run`'s flags as the engine's request; reads the files and stdin they name. */
export async function toRequest(flags: RunFlags & Record<string, unknown>, positional: string[], maxima: MaximaSettings): Promise<ExecuteRequest> {
  if ((flags.code === undefined) === (flags.file === undefined)) {
    throw new InvalidRequestError('--code/--file', 'give exactly one of --code or --file');
  }
  if (typeof flags.stdin === 'string' && flags.stdinFile !== undefined) {
    throw new InvalidRequestError('--stdin/--stdin-file', 'give at most one of --stdin or --stdin-file');
  }
  const sourceFromStdin = flags.file?.includes(STDIN_PATH) ?? false;
  if (sourceFromStdin && flags.file!.length > 1) {
    throw new InvalidRequestError('--file', "'-' (the source from stdin) must be the only --file; give several files by their paths");
  }
  if (sourceFromStdin && flags.stdinFile === STDIN_PATH) {
    throw new InvalidRequestError('--stdin-file', "stdin is already the program's source (--file -); give the program's input with --stdin TEXT or --stdin-file PATH");
  }
  const request: ExecuteRequest = {
    language: flags.lang,
    args: [...(flags.args ?? []), ...positional],
    // Plain output passes the program's bytes through untouched; JSON carries text unless asked.
    outputEncoding: flags.json && !flags.base64 ? 'utf8' : 'base64',
    limits: limitsOf(flags),
  };
  if (flags.code !== undefined) request.code = flags.code;
  if (sourceFromStdin) {
    request.code = (await readTerminalOrPipe('the program', codeLimit('--file -', maxima))).toString('utf8');
  } else if (flags.file) {
    request.files = await Promise.all(flags.file.map((path) => readSource(path, maxima)));
  }
  if (flags.entry !== undefined) request.entry = flags.entry;
  if (flags.image !== undefined) request.image = flags.image;
  if (flags.env) request.env = envOf(flags.env);
  const stdin = await programStdin(flags, sourceFromStdin, maxima);
  if (stdin !== undefined) request.stdin = stdin;
  return request;
}

/**
 * The program's stdin: --stdin, --stdin-file, else whatever is piped or redirected in (unless
 * --no-stdin, or stdin already holds the source).
 */
async function programStdin(flags: RunFlags, sourceFromStdin: boolean, maxima: MaximaSettings): Promise<string | undefined> {
  if (typeof flags.stdin === 'string') return flags.stdin;
  const fromStdin = flags.stdinFile === STDIN_PATH || (flags.stdinFile === undefined && flags.stdin !== false && !sourceFromStdin && stdinIsPiped());
  if (fromStdin) {
    const field = flags.stdinFile === STDIN_PATH ? '--stdin-file -' : 'stdin (piped in)';
    return (await readTerminalOrPipe("the program's input", stdinLimit(field, maxima))).toString('utf8');
  }
  if (flags.stdinFile !== undefined) return (await readPath(flags.stdinFile, stdinLimit('--stdin-file', maxima))).toString('utf8');
  return undefined;
}

/** Our stdin to its end; on a terminal (only when asked for with `-`), says how to end it. */
function readTerminalOrPipe(what: string, limit: ReadLimit): Promise<Buffer> {
  if (process.stdin.isTTY) process.stderr.write(`reading ${what} from the terminal; end it with Ctrl-D\n`);
  return readCapped(process.stdin, limit);
}

function stdinLimit(field: string, maxima: MaximaSettings): ReadLimit {
  return { field, setting: 'maxStdinBytes', maxBytes: maxima.maxStdinBytes, code: ErrorCodes.STDIN_TOO_LARGE };
}

function codeLimit(field: string, maxima: MaximaSettings): ReadLimit {
  return { field, setting: 'maxCodeBytes', maxBytes: maxima.maxCodeBytes, code: ErrorCodes.CODE_TOO_LARGE };
}

function limitsOf(flags: Record<string, unknown>): LimitRequest {
  const limits: LimitRequest = {};
  for (const option of LIMIT_OPTIONS) {
    const value = numberFlag(flags, option.flag);
    if (value !== undefined) limits[option.key] = value;
  }
  return limits;
}

/** `--env NAME=VALUE` flags as an environment; the message names the flag. */
export function envOf(pairs: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new InvalidRequestError('--env', `'${pair}' is not NAME=VALUE`);
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return env;
}

async function readSource(path: string, maxima: MaximaSettings): Promise<{ name: string; content: string; encoding: 'base64' }> {
  const content = await readPath(path, codeLimit('--file', maxima));
  return { name: basename(path), content: content.toString('base64'), encoding: 'base64' };
}

/** Reads a file named by a flag, no further than its limit (`--stdin-file /dev/zero` ends too). */
async function readPath(path: string, limit: ReadLimit): Promise<Buffer> {
  try {
    return await readCapped(createReadStream(path), limit);
  } catch (err) {
    if (isRunnerError(err)) throw err;
    throw new InvalidRequestError(limit.field, `cannot read '${path}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}
