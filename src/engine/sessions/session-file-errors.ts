import { ErrorCodes, InvalidRequestError, RunnerError, SessionRequestError, isRunnerError } from '../../errors.js';
import { printable } from '../../safe-text.js';

/** The agent's file-request codes (PROTOCOL2) as what the caller did wrong: 400 naming the field, 404, 413. */
const BY_AGENT_CODE: Readonly<Record<string, (field: string, path: string) => RunnerError>> = {
  bad_request: (field) => new InvalidRequestError(field, 'was refused by the sandbox as malformed'),
  bad_path: (field) => new InvalidRequestError(field, 'is not a valid path in the work directory'),
  symlink: (field, path) => new InvalidRequestError(field, `'${path}' goes through a symbolic link; links are never followed`),
  exists: (field, path) => new InvalidRequestError(field, `'${path}' already exists`),
  is_dir: (field, path) => new InvalidRequestError(field, `'${path}' is a directory`),
  not_dir: (field, path) => new InvalidRequestError(field, `a component of '${path}' is not a directory`),
  not_found: (_field, path) => new RunnerError(ErrorCodes.NOT_FOUND, `no file '${path}' in the session`),
  too_large: (_field, path) => new RunnerError(ErrorCodes.FILE_TOO_LARGE, `'${path}' is larger than the per-file cap`),
};

/** The agent's code on a refused file request. */
export function agentCodeOf(err: unknown): string | undefined {
  return err instanceof SessionRequestError ? err.detail.agentCode : undefined;
}

/** A failed file request as the caller's error; failures that are not about the request stay as they are. */
export function sessionFileError(err: unknown, field: string, path: string): unknown {
  const code = agentCodeOf(err);
  const mapped = code === undefined ? undefined : BY_AGENT_CODE[code];
  if (mapped) return mapped(field, printable(path));
  return isRunnerError(err) ? err : new RunnerError(ErrorCodes.INTERNAL, 'file request failed', { cause: err });
}
