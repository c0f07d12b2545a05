import type { ErrorCode } from '../errors.js';
import type { ExecutionResult } from './types.js';

/** Codes of failures the client itself sees (no reply, or a reply that is not the API's). */
export const ClientErrorCodes = {
  /** The server could not be reached, or the connection broke (the request's fetch rejected). */
  CONNECTION: 'RC_CLIENT_CONNECTION',
  /** The reply was not what the API sends (not JSON, a stream cut short, a proxy's page). */
  BAD_RESPONSE: 'RC_CLIENT_BAD_RESPONSE',
} as const;
export type ClientErrorCode = (typeof ClientErrorCodes)[keyof typeof ClientErrorCodes];

export interface RunnerCodesErrorDetails {
  /** The API's error code (docs/errors.md), or the client's own (ClientErrorCodes). */
  code: ErrorCode | ClientErrorCode | (string & {});
  message: string;
  /** The HTTP status; undefined when no reply came. */
  status?: number | undefined;
  /** The request field at fault (400s). */
  field?: string | undefined;
  traceId?: string | undefined;
  /** The original project's code (E001…E006) where one applies. */
  legacyCode?: string | undefined;
  /** Seconds to wait before trying again (the Retry-After header of a 429 or 503). */
  retryAfter?: number | undefined;
  /** The failed execution's result object, when the server sent one (`status: "failed"`). */
  result?: ExecutionResult | undefined;
  cause?: unknown;
}

/** Every error the client throws: match on `code` (or the subclass), never on the message. */
export class RunnerCodesError extends Error {
  readonly code: RunnerCodesErrorDetails['code'];
  readonly status: number | undefined;
  readonly field: string | undefined;
  readonly traceId: string | undefined;
  readonly legacyCode: string | undefined;
  readonly retryAfter: number | undefined;
  readonly result: ExecutionResult | undefined;

  constructor(details: RunnerCodesErrorDetails) {
    super(details.message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.code = details.code;
    this.status = details.status;
    this.field = details.field;
    this.traceId = details.traceId;
    this.legacyCode = details.legacyCode;
    this.retryAfter = details.retryAfter;
    this.result = details.result;
  }
}

/** 400, 413, 415: the request itself is wrong; `field` names what to fix. */
export class BadRequestError extends RunnerCodesError {}
/** 401: the API key is missing or not valid. */
export class AuthenticationError extends RunnerCodesError {}
/** 404: no such language, session, file or route. */
export class NotFoundError extends RunnerCodesError {}
/** 429: a rate, queue or session cap; try again after `retryAfter` seconds. */
export class RateLimitError extends RunnerCodesError {}
/** 503: the server is shutting down, an image is missing, or the execution was cancelled; `retryAfter` when it says. */
export class UnavailableError extends RunnerCodesError {}
/** Any other 5xx: the service failed (the server's log has the details under `traceId`). */
export class ServerError extends RunnerCodesError {}
/** No reply: the server could not be reached or the connection broke. */
export class ConnectionError extends RunnerCodesError {}
/** A reply that is not the API's. */
export class BadResponseError extends RunnerCodesError {}

/** The subclass of an HTTP status. */
function classOf(status: number): typeof RunnerCodesError {
  if (status === 401) return AuthenticationError;
  if (status === 404) return NotFoundError;
  if (status === 429) return RateLimitError;
  if (status === 503) return UnavailableError;
  if (status >= 500) return ServerError;
  if (status >= 400) return BadRequestError;
  return BadResponseError;
}

/** Retry-After in seconds: delay-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function retryAfterSeconds(header: string | null): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim());
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/**
 * The error of a reply that is not a success: an error body (`{error: {code, message, field?}, trace_id}`),
 * or a failed result object (`status: "failed"` with `error: {code, message}`), which it carries.
 */
export function errorFromReply(status: number, headers: Headers, body: unknown): RunnerCodesError {
  const error = isObject(body) && isObject(body.error) ? body.error : undefined;
  const code = text(error?.code);
  const Class = classOf(status);
  if (!error || code === undefined) {
    return new (status >= 400 ? Class : BadResponseError)({ code: ClientErrorCodes.BAD_RESPONSE, status, message: `HTTP ${status}: the reply is not an API error body` });
  }
  const isResult = isObject(body) && body.status === 'failed' && typeof body.stdout === 'string';
  return new Class({
    code,
    status,
    message: text(error.message) ?? code,
    field: text(error.field),
    traceId: text((body as Json).trace_id),
    legacyCode: text(error.legacy_code),
    retryAfter: retryAfterSeconds(headers.get('retry-after')),
    result: isResult ? (body as ExecutionResult) : undefined,
  });
}
