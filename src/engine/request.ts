import { Buffer } from 'node:buffer';
import { ErrorCodes, InvalidRequestError } from '../errors.js';
import type { LanguageSpec } from '../languages/types.js';
import { nameSourcesAfterUnits } from '../languages/unit-names.js';
import { MAX_FILES, MAX_PATH_BYTES } from '../protocol/limits.js';
import { hasUnsafeChars, printable } from '../safe-text.js';
import { AboveMaximumError } from './above-maximum.js';
import type { LimitRequest } from './limits.js';

/** One submitted file. `content` is text, or base64 when `encoding` says so. */
export interface SubmittedFile {
  name: string;
  content: string;
  encoding?: 'utf8' | 'base64';
}

/** What every edge (CLI, HTTP API, queue worker) hands the engine. */
export interface ExecuteRequest {
  /** Language id or alias. */
  language: string;
  /** Source of a single-file program; shorthand for `files: [{ name: <language's file name>, content }]`. */
  code?: string;
  files?: SubmittedFile[];
  /** Which file is the entry point (default: the first). */
  entry?: string;
  stdin?: string;
  args?: string[];
  env?: Record<string, string>;
  limits?: LimitRequest;
  /** `base64` returns stdout/stderr as base64 instead of UTF-8 text (invalid bytes replaced). */
  outputEncoding?: 'utf8' | 'base64';
  /**
   * Pin the image: a digest (`sha256:<64 hex>`) or `name:tag` of an image of this language in the
   * host's store (docs/images.md). Default: the language's current image.
   */
  image?: string;
}

/** Sizes the engine accepts; the API may configure smaller ones. */
export interface InputMaxima {
  stdinBytes: number;
  /** Total decoded size of all files. */
  filesBytes: number;
  argsCount: number;
  argBytes: number;
  envCount: number;
}

export const DEFAULT_INPUT_MAXIMA: InputMaxima = {
  stdinBytes: 1024 * 1024,
  filesBytes: 16 * 1024 * 1024,
  argsCount: 256,
  argBytes: 4096,
  envCount: 64,
};

/** A request after validation: decoded files, a known entry, plain values. */
export interface NormalizedRequest {
  files: { path: string; content: Buffer; executable: boolean }[];
  entry: string;
  stdin: Buffer;
  args: string[];
  env: [string, string][];
  outputEncoding: 'utf8' | 'base64';
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Validates a request against a language and the input maxima. Every failure names the field;
 * nothing is started before this passes.
 */
export function normalizeRequest(
  request: ExecuteRequest,
  language: LanguageSpec,
  maxima: InputMaxima = DEFAULT_INPUT_MAXIMA,
): NormalizedRequest {
  const submitted = normalizeFiles(request, language, maxima);
  const given = request.entry ?? submitted[0]!.path;
  if (!submitted.some((file) => file.path === given)) {
    throw new InvalidRequestError('entry', `'${printable(String(given))}' is not one of the submitted files`);
  }
  const fromCode = request.code !== undefined;
  const { files, entry } = nameSourcesAfterUnits(language, submitted, given, (i, part) => (fromCode ? 'code' : `files[${i}].${part}`));
  rejectFileDirectoryClashes(files.map((file) => file.path));
  return {
    files,
    entry,
    stdin: normalizeStdin(request.stdin, maxima),
    args: normalizeArgs(request.args, maxima),
    env: normalizeEnv(request.env, maxima),
    outputEncoding: normalizeOutputEncoding(request.outputEncoding),
  };
}

function normalizeFiles(request: ExecuteRequest, language: LanguageSpec, maxima: InputMaxima): NormalizedRequest['files'] {
  if (request.code !== undefined && request.files !== undefined) {
    throw new InvalidRequestError('code', 'give either code or files, not both');
  }
  let submitted: SubmittedFile[];
  if (request.code !== undefined) {
    if (typeof request.code !== 'string') throw new InvalidRequestError('code', 'must be a string');
    if (request.code.trim() === '') throw new InvalidRequestError('code', 'must not be empty');
    submitted = [{ name: language.fileName, content: request.code }];
  } else if (request.files !== undefined) {
    if (!Array.isArray(request.files) || request.files.length === 0) {
      throw new InvalidRequestError('files', 'must be a non-empty array');
    }
    submitted = request.files;
  } else {
    throw new InvalidRequestError('code', 'code or files is required');
  }
  if (submitted.length > MAX_FILES) throw new InvalidRequestError('files', `at most ${MAX_FILES} files`);
  const seen = new Set<string>();
  let total = 0;
  const files = submitted.map((file, index) => {
    const field = `files[${index}]`;
    if (file === null || typeof file !== 'object') throw new InvalidRequestError(field, 'must be an object');
    const path = validateFileName(file.name, `${field}.name`);
    if (seen.has(path)) throw new InvalidRequestError(`${field}.name`, `'${printable(path)}' is given twice`);
    seen.add(path);
    const content = decodeContent(file, field);
    total += content.length;
    if (total > maxima.filesBytes) {
      throw new AboveMaximumError(request.code !== undefined ? 'code' : 'files', `is more than the ${maxima.filesBytes}-byte maximum`, 'maxCodeBytes', { code: ErrorCodes.CODE_TOO_LARGE });
    }
    return { path, content, executable: false };
  });
  if (files.every((file) => file.content.length === 0)) throw new InvalidRequestError('files', 'every file is empty');
  return files;
}

/** `a` and `a/b` cannot both exist: the agent would refuse the job, so say which field is at fault. */
function rejectFileDirectoryClashes(paths: string[]): void {
  const dirs = new Set(paths.flatMap((path) => path.split('/').slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join('/'))));
  const index = paths.findIndex((path) => dirs.has(path));
  if (index >= 0) throw new InvalidRequestError(`files[${index}].name`, `'${printable(paths[index]!)}' is also a directory of another file`);
}

/**
 * File names are relative paths below the work dir. The agent checks again and opens every
 * component with O_NOFOLLOW; this check exists to give callers a clear error.
 */
export function validateFileName(name: unknown, field: string): string {
  if (typeof name !== 'string' || name === '') throw new InvalidRequestError(field, 'must be a non-empty string');
  if (Buffer.byteLength(name) > MAX_PATH_BYTES) throw new InvalidRequestError(field, `must be at most ${MAX_PATH_BYTES} bytes`);
  if (name.includes('\0')) throw new InvalidRequestError(field, 'must not contain NUL');
  // SECURITY: names reach listings, logs and terminals; control and bidi characters could forge them.
  if (hasUnsafeChars(name)) throw new InvalidRequestError(field, 'must not contain control or bidirectional-override characters');
  if (name.startsWith('/')) throw new InvalidRequestError(field, 'must be a relative path, not absolute');
  // Names become compiler and interpreter arguments ({file}, {sources}): never options.
  if (name.startsWith('-') || name.includes('/-')) throw new InvalidRequestError(field, "must not have a component starting with '-'");
  if (name.includes('\\')) throw new InvalidRequestError(field, 'must use / as separator, not \\');
  for (const part of name.split('/')) {
    if (part === '') throw new InvalidRequestError(field, 'must not contain empty path components');
    if (part === '.' || part === '..') throw new InvalidRequestError(field, `must not contain '${part}' components`);
  }
  return name;
}

export function decodeContent(file: SubmittedFile, field: string): Buffer {
  if (typeof file.content !== 'string') throw new InvalidRequestError(`${field}.content`, 'must be a string');
  const encoding = file.encoding ?? 'utf8';
  if (encoding === 'utf8') return Buffer.from(file.content, 'utf8');
  if (encoding === 'base64') {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(file.content) || file.content.length % 4 !== 0) {
      throw new InvalidRequestError(`${field}.content`, 'is not valid base64');
    }
    return Buffer.from(file.content, 'base64');
  }
  throw new InvalidRequestError(`${field}.encoding`, "must be 'utf8' or 'base64'");
}

export function normalizeStdin(stdin: unknown, maxima: InputMaxima): Buffer {
  if (stdin === undefined || stdin === null) return Buffer.alloc(0);
  if (typeof stdin !== 'string') throw new InvalidRequestError('stdin', 'must be a string');
  const bytes = Buffer.from(stdin, 'utf8');
  if (bytes.length > maxima.stdinBytes) {
    throw new AboveMaximumError('stdin', `is ${bytes.length} bytes, more than the ${maxima.stdinBytes}-byte maximum`, 'maxStdinBytes', { code: ErrorCodes.STDIN_TOO_LARGE });
  }
  return bytes;
}

export function normalizeArgs(args: unknown, maxima: InputMaxima): string[] {
  if (args === undefined) return [];
  if (!Array.isArray(args)) throw new InvalidRequestError('args', 'must be an array of strings');
  if (args.length > maxima.argsCount) throw new InvalidRequestError('args', `at most ${maxima.argsCount} arguments`);
  return args.map((arg, index) => {
    if (typeof arg !== 'string') throw new InvalidRequestError(`args[${index}]`, 'must be a string');
    if (arg.includes('\0')) throw new InvalidRequestError(`args[${index}]`, 'must not contain NUL');
    if (Buffer.byteLength(arg) > maxima.argBytes) throw new InvalidRequestError(`args[${index}]`, `must be at most ${maxima.argBytes} bytes`);
    return arg;
  });
}

export function normalizeEnv(env: unknown, maxima: InputMaxima): [string, string][] {
  if (env === undefined) return [];
  if (env === null || typeof env !== 'object' || Array.isArray(env)) throw new InvalidRequestError('env', 'must be an object of strings');
  const entries = Object.entries(env);
  if (entries.length > maxima.envCount) throw new InvalidRequestError('env', `at most ${maxima.envCount} variables`);
  return entries.map(([name, value]) => {
    if (!ENV_NAME.test(name)) throw new InvalidRequestError(`env.${printable(name, 64)}`, 'is not a valid variable name');
    if (typeof value !== 'string') throw new InvalidRequestError(`env.${name}`, 'must be a string');
    if (value.includes('\0')) throw new InvalidRequestError(`env.${name}`, 'must not contain NUL');
    if (Buffer.byteLength(value) > maxima.argBytes) throw new InvalidRequestError(`env.${name}`, `must be at most ${maxima.argBytes} bytes`);
    return [name, value];
  });
}

export function normalizeOutputEncoding(value: unknown): 'utf8' | 'base64' {
  if (value === undefined || value === 'utf8') return 'utf8';
  if (value === 'base64') return 'base64';
  throw new InvalidRequestError('output_encoding', "must be 'utf8' or 'base64'");
}
