import type { FastifyError } from 'fastify';
import type { ExecutionResult } from '../engine/result.js';
import { ErrorCodes, InvalidRequestError, RunnerError, isRunnerError, type ErrorCode } from '../errors.js';

/** An error as the HTTP layer sends it. */
export interface HttpError {
  status: number;
  code: string;
  message: string;
  field?: string;
  /** The original project's code (E001…E006) where one applies. */
  legacyCode?: string;
  /** Seconds for a Retry-After header (429 / 503). */
  retryAfter?: number;
}

/** Error code → HTTP status and legacy code: the one translation table of the API. */
const BY_CODE: Partial<Record<ErrorCode, { status: number; legacy?: string; retryAfter?: number }>> = {
  [ErrorCodes.INVALID_REQUEST]: { status: 400 },
  [ErrorCodes.UNKNOWN_LANGUAGE]: { status: 400, legacy: 'E006' },
  [ErrorCodes.IMAGE_MISSING]: { status: 503 },
  [ErrorCodes.STDIN_TOO_LARGE]: { status: 413, legacy: 'E005' },
  [ErrorCodes.CODE_TOO_LARGE]: { status: 413 },
  [ErrorCodes.BODY_TOO_LARGE]: { status: 413 },
  [ErrorCodes.UNSUPPORTED_MEDIA_TYPE]: { status: 415 },
  [ErrorCodes.API_KEY_MISSING]: { status: 401, legacy: 'E004' },
  [ErrorCodes.API_KEY_INVALID]: { status: 401, legacy: 'E003' },
  [ErrorCodes.RATE_LIMITED]: { status: 429, legacy: 'E002' },
  [ErrorCodes.QUEUE_FULL]: { status: 429, retryAfter: 1 },
  [ErrorCodes.NOT_FOUND]: { status: 404 },
  [ErrorCodes.SHUTTING_DOWN]: { status: 503, retryAfter: 5 },
  [ErrorCodes.CANCELLED]: { status: 503 },
  [ErrorCodes.AGENT_TIMEOUT]: { status: 504, legacy: 'E001' },
  [ErrorCodes.SESSION_LIMIT]: { status: 429, retryAfter: 5 },
  [ErrorCodes.FILE_TOO_LARGE]: { status: 413 },
  [ErrorCodes.SESSION_REQUEST]: { status: 400 },
  [ErrorCodes.QUEUE_UNAVAILABLE]: { status: 503, retryAfter: 2 },
  [ErrorCodes.NO_WORKER]: { status: 503, retryAfter: 5 },
  [ErrorCodes.WORKER_LOST]: { status: 503, retryAfter: 1 },
  [ErrorCodes.NOT_IN_QUEUE_MODE]: { status: 501 },
};

/**
 * Routes whose response shape has no room for a failed result (the original /api/v1/run, Piston)
 * turn an infrastructure failure back into an error, so that the one error handler shapes it.
 */
export function throwIfFailed(result: ExecutionResult): void {
  if (result.error) throw new RunnerError(result.error.code as ErrorCode, result.error.message);
}

/** HTTP status of an error code (500 for codes with no entry). */
export function statusOf(code: string): number {
  return BY_CODE[code as ErrorCode]?.status ?? 500;
}

/** Fastify's own errors (body parsing, content type) in our codes. */
const FASTIFY: Record<string, { code: ErrorCode; message: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { code: ErrorCodes.BODY_TOO_LARGE, message: 'is larger than the server accepts' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: ErrorCodes.UNSUPPORTED_MEDIA_TYPE, message: 'must be sent as application/json' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: ErrorCodes.INVALID_REQUEST, message: 'does not match its Content-Length' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: ErrorCodes.INVALID_REQUEST, message: 'must not be empty' },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: ErrorCodes.INVALID_REQUEST, message: 'is not valid JSON' },
};

interface AjvError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

/** `/files/0/name` → `files[0].name` */
function fieldOf(instancePath: string): string {
  return instancePath
    .split('/')
    .filter(Boolean)
    .map((part, i) => (/^\d+$/.test(part) ? `[${part}]` : i === 0 ? part : `.${part}`))
    .join('');
}

/** The error with the longest instance path (the first of equals). */
function deepest(errors: readonly AjvError[]): AjvError {
  return errors.reduce((best, error) => (error.instancePath.split('/').length > best.instancePath.split('/').length ? error : best));
}

/** One schema-validation failure as `field: what is wrong`. */
export function describeValidation(errors: readonly AjvError[]): { field: string; message: string } {
  // A union (an object or a batch of them) fails in every branch: the error that went deepest is
  // the one about the branch the body meant (`[2].language`, not "must be object").
  const e = errors.some((error) => error.keyword === 'anyOf') ? deepest(errors) : errors[0]!;
  const base = fieldOf(e.instancePath);
  const join = (name: string): string => (base ? `${base}.${name}` : name);
  if (e.keyword === 'additionalProperties') return { field: join(String(e.params.additionalProperty)), message: 'is not a known field' };
  if (e.keyword === 'required') return { field: join(String(e.params.missingProperty)), message: 'is required' };
  if (e.keyword === 'anyOf') return { field: base || 'body', message: 'has the wrong type or value' };
  return { field: base || 'body', message: e.message ?? 'is invalid' };
}

/** Any error a route or Fastify can throw, as an HttpError. Unknown errors become a bare 500. */
export function toHttpError(err: unknown): HttpError {
  if (isRunnerError(err)) {
    const mapped = BY_CODE[err.code] ?? { status: 500 };
    return {
      status: mapped.status,
      code: err.code,
      message: err.message,
      ...(err instanceof InvalidRequestError ? { field: err.field } : {}),
      ...(mapped.legacy ? { legacyCode: mapped.legacy } : {}),
      ...(mapped.retryAfter ? { retryAfter: mapped.retryAfter } : {}),
    };
  }
  const fastifyError = err as FastifyError & { validation?: AjvError[] };
  if (fastifyError?.validation) {
    const { field, message } = describeValidation(fastifyError.validation);
    return { status: 400, code: ErrorCodes.INVALID_REQUEST, message: `${field}: ${message}`, field };
  }
  const known = fastifyError?.code ? FASTIFY[fastifyError.code] : undefined;
  if (known) return { status: BY_CODE[known.code]?.status ?? 400, code: known.code, message: `body: ${known.message}`, field: 'body' };
  if (fastifyError?.statusCode === 400 || (fastifyError instanceof SyntaxError)) {
    return { status: 400, code: ErrorCodes.INVALID_REQUEST, message: 'is not valid JSON', field: 'body' };
  }
  return { status: 500, code: ErrorCodes.INTERNAL, message: 'internal error' };
}
