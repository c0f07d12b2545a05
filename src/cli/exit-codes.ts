import { ErrorCodes, isRunnerError } from '../errors.js';

/** Exit codes of the CLI besides the program's own (which `run` passes through). */
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
]);

/** The one place an error becomes an exit code. */
export function exitCodeFor(err: unknown): number {
  if (isRunnerError(err) && USAGE_CODES.has(err.code)) return EXIT.USAGE;
  return EXIT.INFRASTRUCTURE;
}

/** One line (plus a hint line) for humans; never a stack trace. */
export function describeError(err: unknown): string {
  if (isRunnerError(err)) return `error: ${err.message}${err.hint ? `\nhint: ${err.hint}` : ''}`;
  return `error: ${err instanceof Error ? err.message : String(err)}`;
}
