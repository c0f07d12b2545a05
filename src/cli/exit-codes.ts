import { AboveMaximumError } from '../engine/above-maximum.js';
import type { ExecutionResult } from '../engine/result.js';
import { ErrorCodes, InvalidRequestError, isRunnerError } from '../errors.js';
import { cliFieldName, maximumFlag } from './field-names.js';

/**
 * Exit codes of the CLI besides the program's own. `run` exits with the program's exit code (128 +
 * signal when it was killed), with and without --json; 2 for bad input, 125 when Runner Codes failed.
 */
export const EXIT = {
  OK: 0,
  /** Bad usage or input, unknown language, missing image or host dependency: fix and retry. */
  USAGE: 2,
  /** Runner Codes itself failed (sandbox, agent, cgroup), like `docker run`'s 125. */
  INFRASTRUCTURE: 125,
} as const;

const USAGE_CODES = new Set<string>([
  ErrorCodes.INVALID_REQUEST,
  ErrorCodes.UNKNOWN_LANGUAGE,
  ErrorCodes.IMAGE_MISSING,
  ErrorCodes.HOST_DEPENDENCY,
  ErrorCodes.NEEDS_ROOT,
  ErrorCodes.STDIN_TOO_LARGE,
  ErrorCodes.CODE_TOO_LARGE,
  ErrorCodes.CONFIG,
  // A session that does not exist (or ended), a file over a session's cap: fix the command.
  ErrorCodes.NOT_FOUND,
  ErrorCodes.FILE_TOO_LARGE,
  // Wrong or missing registry credentials: set them and retry.
  ErrorCodes.REGISTRY_AUTH,
]);

/** The one place an execution's result becomes `run`'s exit code (plain output and --json alike). */
export function exitCodeOfResult(result: ExecutionResult): number {
  if (result.status === 'failed') return EXIT.INFRASTRUCTURE;
  return result.exit_code ?? EXIT.INFRASTRUCTURE;
}

/** The one place an error becomes an exit code. */
export function exitCodeFor(err: unknown): number {
  if (isRunnerError(err) && USAGE_CODES.has(err.code)) return EXIT.USAGE;
  return EXIT.INFRASTRUCTURE;
}

/**
 * One line (plus a hint line) for humans; never a stack trace. Bad input names the flag to change,
 * and a value above a maximum also the flag that raises the maximum.
 */
export function describeError(err: unknown): string {
  if (!isRunnerError(err)) return `error: ${err instanceof Error ? err.message : String(err)}`;
  let { message, hint } = err;
  if (err instanceof InvalidRequestError) {
    // The message is `${field}: ${detail}` (see InvalidRequestError).
    const detail = err instanceof AboveMaximumError ? err.detail : message.slice(err.field.length + 2);
    message = `${cliFieldName(err.field)}: ${detail}`;
    if (err instanceof AboveMaximumError) hint = `raise the maximum with ${maximumFlag(err.setting)}`;
  }
  return `error: ${message}${hint ? `\nhint: ${hint}` : ''}`;
}
