import { Buffer } from 'node:buffer';
import { ErrorCodes, InvalidRequestError } from '../../errors.js';
import type { LanguageSpec } from '../../languages/types.js';
import type { JobStage } from '../../protocol/messages.js';
import { AboveMaximumError } from '../above-maximum.js';
import { buildJob, commandStage } from '../job.js';
import type { Limits } from '../limits.js';
import { decodeContent, normalizeArgs, normalizeEnv, normalizeOutputEncoding, normalizeRequest, normalizeStdin, type InputMaxima, type SubmittedFile } from '../request.js';
import type { SessionExecRequest } from './session-service.js';
import { validateSessionPath } from './session-path.js';

/** What one execution in a session sends: files to put first, then the stages. Plain data, no I/O. */
export interface SessionJob {
  files: { path: string; content: Buffer }[];
  stages: JobStage[];
  outputEncoding: 'utf8' | 'base64';
}

/** Submitted files as paths in the work directory (`field` names them in errors), within the input maxima. */
export function sessionFiles(files: SubmittedFile[] | undefined, field: string, maxima: InputMaxima): SessionJob['files'] {
  if (files === undefined) return [];
  if (!Array.isArray(files)) throw new InvalidRequestError(field, 'must be an array');
  let total = 0;
  const seen = new Set<string>();
  return files.map((file, index) => {
    const at = `${field}[${index}]`;
    if (file === null || typeof file !== 'object') throw new InvalidRequestError(at, 'must be an object');
    const path = validateSessionPath(file.name, `${at}.name`);
    if (seen.has(path)) throw new InvalidRequestError(`${at}.name`, 'is given twice');
    seen.add(path);
    const content = decodeContent(file, at);
    total += content.length;
    if (total > maxima.filesBytes) throw new AboveMaximumError(field, `is more than the ${maxima.filesBytes}-byte maximum`, 'maxCodeBytes', { code: ErrorCodes.CODE_TOO_LARGE });
    return { path, content };
  });
}

function validateCommand(command: unknown, maxima: InputMaxima): string[] {
  if (!Array.isArray(command) || command.length === 0) throw new InvalidRequestError('command', 'must be a non-empty array of strings (an argv; no shell)');
  if (command.length > maxima.argsCount) throw new InvalidRequestError('command', `at most ${maxima.argsCount} elements`);
  return command.map((arg, index) => {
    if (typeof arg !== 'string') throw new InvalidRequestError(`command[${index}]`, 'must be a string');
    if (index === 0 && arg === '') throw new InvalidRequestError('command[0]', 'must name a program');
    if (arg.includes('\0')) throw new InvalidRequestError(`command[${index}]`, 'must not contain NUL');
    if (Buffer.byteLength(arg) > maxima.argBytes) throw new InvalidRequestError(`command[${index}]`, `must be at most ${maxima.argBytes} bytes`);
    return arg;
  });
}

/**
 * One execution in a session, validated (every failure names its field): `code` becomes the
 * language's program file and its compile and run stages exactly as for a one-shot execution
 * (job.ts); `command` one run stage of that argv (then `args`). The session's environment comes
 * first, the execution's own on top.
 */
export function buildSessionJob(language: LanguageSpec, request: SessionExecRequest, sessionEnv: Readonly<Record<string, string>>, limits: Limits, maxima: InputMaxima): SessionJob {
  const files = sessionFiles(request.files, 'files', maxima);
  const env = { ...sessionEnv, ...(request.env ?? {}) };
  if (request.env !== undefined) normalizeEnv(request.env, maxima);
  if (request.code !== undefined && request.command !== undefined) throw new InvalidRequestError('code', 'give either code or command, not both');
  if (request.command !== undefined) {
    const argv = [...validateCommand(request.command, maxima), ...normalizeArgs(request.args, maxima)];
    const input = { env: normalizeEnv(env, maxima), stdin: normalizeStdin(request.stdin, maxima) };
    return { files, stages: [commandStage(language, argv, input, limits)], outputEncoding: normalizeOutputEncoding(request.outputEncoding) };
  }
  if (request.code === undefined) throw new InvalidRequestError('code', 'code or command is required');
  const normalized = normalizeRequest(
    { language: language.id, code: request.code, env, ...(request.stdin !== undefined ? { stdin: request.stdin } : {}), ...(request.args !== undefined ? { args: request.args } : {}), ...(request.outputEncoding ? { outputEncoding: request.outputEncoding } : {}) },
    language,
    maxima,
  );
  const job = buildJob(language, normalized, limits);
  const program = job.files.map((file) => ({ path: file.path, content: Buffer.from(file.content_b64, 'base64') }));
  return { files: [...files.filter((f) => !program.some((p) => p.path === f.path)), ...program], stages: job.stages, outputEncoding: normalized.outputEncoding };
}
