/**
 * The one error family of Runner Codes. Callers match on `code`, never on message text.
 * Every code is documented in docs/errors.md; test/unit/errors.test.ts keeps the two in step.
 * Never reuse a retired code.
 */
export const ErrorCodes = {
  /** The request is malformed: a field is missing, of the wrong type or out of range. */
  INVALID_REQUEST: 'RC_ERR_INVALID_REQUEST',
  /** The requested language is not in the catalog. */
  UNKNOWN_LANGUAGE: 'RC_ERR_UNKNOWN_LANGUAGE',
  /** The language exists but its image has not been built on this host. */
  IMAGE_MISSING: 'RC_ERR_IMAGE_MISSING',
  /** Building an image failed. */
  IMAGE_BUILD: 'RC_ERR_IMAGE_BUILD',
  /** A blob or image config does not have the digest it was named by (corrupted or tampered with). */
  IMAGE_DIGEST: 'RC_ERR_IMAGE_DIGEST',
  /** An image to import breaks the import rules (a path outside the tree, a device node, too large...). */
  IMAGE_IMPORT: 'RC_ERR_IMAGE_IMPORT',
  /** A host dependency (bwrap, the agent, the seccomp filter, cgroups) is missing or unusable. */
  HOST_DEPENDENCY: 'RC_ERR_HOST_DEPENDENCY',
  /** The operation needs root (cgroups, apt, debootstrap). */
  NEEDS_ROOT: 'RC_ERR_NEEDS_ROOT',
  /** The sandbox could not be started or died before the agent answered. */
  SANDBOX_START: 'RC_ERR_SANDBOX_START',
  /** The agent broke the frame protocol or reported an internal failure. */
  AGENT_PROTOCOL: 'RC_ERR_AGENT_PROTOCOL',
  /** The agent did not answer within the job's time budget plus grace; the sandbox was destroyed. */
  AGENT_TIMEOUT: 'RC_ERR_AGENT_TIMEOUT',
  /** The agent refused the job (e.g. a file could not be written). */
  JOB_REJECTED: 'RC_ERR_JOB_REJECTED',
  /** stdin is larger than the configured maximum (the original project's E005). */
  STDIN_TOO_LARGE: 'RC_ERR_STDIN_TOO_LARGE',
  /** A cgroup operation failed. */
  CGROUP: 'RC_ERR_CGROUP',
  /** The execution was cancelled by the caller (e.g. server shutdown). */
  CANCELLED: 'RC_ERR_CANCELLED',
  /** The submitted files are larger than the configured maximum. */
  CODE_TOO_LARGE: 'RC_ERR_CODE_TOO_LARGE',
  /** Every execution slot is busy and the wait queue is full; retry after the Retry-After delay. */
  QUEUE_FULL: 'RC_ERR_QUEUE_FULL',
  /** The server is shutting down and takes no new work. */
  SHUTTING_DOWN: 'RC_ERR_SHUTTING_DOWN',
  /** An API key is required and none was sent (the original project's E004). */
  API_KEY_MISSING: 'RC_ERR_API_KEY_MISSING',
  /** The API key sent is not valid (the original project's E003). */
  API_KEY_INVALID: 'RC_ERR_API_KEY_INVALID',
  /** The caller exceeded its request rate (the original project's E002). */
  RATE_LIMITED: 'RC_ERR_RATE_LIMITED',
  /** No such route or resource. */
  NOT_FOUND: 'RC_ERR_NOT_FOUND',
  /** The request body is larger than the server accepts. */
  BODY_TOO_LARGE: 'RC_ERR_BODY_TOO_LARGE',
  /** The request body is not JSON (or not UTF-8). */
  UNSUPPORTED_MEDIA_TYPE: 'RC_ERR_UNSUPPORTED_MEDIA_TYPE',
  /** An unexpected failure inside Runner Codes; the server log has the details under the trace id. */
  INTERNAL: 'RC_ERR_INTERNAL',
  /** The server's configuration is invalid. */
  CONFIG: 'RC_ERR_CONFIG',
  /** The VMM (Firecracker's API, or its vsock) refused a request or did not answer. */
  VMM_API: 'RC_ERR_VMM_API',
  /** A cap on sessions (per API key, in total, or their memory budget) is reached; retry after Retry-After. */
  SESSION_LIMIT: 'RC_ERR_SESSION_LIMIT',
  /** A file put into or read from a session is larger than the server's per-file or per-session cap. */
  FILE_TOO_LARGE: 'RC_ERR_FILE_TOO_LARGE',
  /** The agent refused one request of a session (a bad path, a missing file, a file over its cap); `detail.agentCode` says which. */
  SESSION_REQUEST: 'RC_ERR_SESSION_REQUEST',
  /** An image registry or S3 bucket could not be reached, refused a request, or has no such image. */
  REGISTRY: 'RC_ERR_REGISTRY',
  /** An image registry or S3 bucket refused the credentials (401/403), or none were given and it wants some. */
  REGISTRY_AUTH: 'RC_ERR_REGISTRY_AUTH',
  /** Queue mode: Redis (the queue) cannot be reached right now; retry after Retry-After. */
  QUEUE_UNAVAILABLE: 'RC_ERR_QUEUE_UNAVAILABLE',
  /** Queue mode: no live worker can run this language on this backend; retry after Retry-After. */
  NO_WORKER: 'RC_ERR_NO_WORKER',
  /** Queue mode: the worker running the job was lost (killed) twice; the job was not run to the end. */
  WORKER_LOST: 'RC_ERR_WORKER_LOST',
  /** Queue mode: this feature (sessions, interactive input) needs an API on the sandbox host itself. */
  NOT_IN_QUEUE_MODE: 'RC_ERR_NOT_IN_QUEUE_MODE',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export class RunnerError extends Error {
  readonly code: ErrorCode;
  /** Where the caller can look or what to do next, one line (shown by the CLI, included in API errors). */
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; hint?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RunnerError';
    this.code = code;
    this.hint = options.hint;
  }
}

/** Bad input from a caller (CLI flags, API body). `field` names the offending field. */
export class InvalidRequestError extends RunnerError {
  readonly field: string;
  constructor(field: string, message: string, code: ErrorCode = ErrorCodes.INVALID_REQUEST) {
    super(code, `${field}: ${message}`);
    this.name = 'InvalidRequestError';
    this.field = field;
  }
}

export class SandboxError extends RunnerError {
  constructor(code: ErrorCode, message: string, options: { cause?: unknown; hint?: string } = {}) {
    super(code, message, options);
    this.name = 'SandboxError';
  }
}

/** What the agent said about a session request it refused (see SessionRequestError). */
export interface SessionRequestDetail {
  /** The agent's code: `bad_path`, `not_found`, `exists`, `is_dir`, `not_dir`, `symlink`, `too_large`, `bad_request`, … (docs/protocol.md). */
  agentCode: string;
  /** The request's type: `put`, `get`, `list`, `delete`, `exec`. */
  request: string;
  /** The path it named, for file requests. */
  path?: string;
}

/** A session request the agent refused; the API maps `detail.agentCode` to 400/404/409/413. */
export class SessionRequestError extends RunnerError {
  readonly detail: SessionRequestDetail;
  constructor(detail: SessionRequestDetail, message: string) {
    super(detail.agentCode === 'internal' ? ErrorCodes.AGENT_PROTOCOL : ErrorCodes.SESSION_REQUEST, message);
    this.name = 'SessionRequestError';
    this.detail = detail;
  }
}

export class ImageError extends RunnerError {
  constructor(code: ErrorCode, message: string, options: { cause?: unknown; hint?: string } = {}) {
    super(code, message, options);
    this.name = 'ImageError';
  }
}

export function isRunnerError(err: unknown): err is RunnerError {
  return err instanceof RunnerError;
}
