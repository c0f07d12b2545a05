import { ErrorCodes, InvalidRequestError, RunnerError, type ErrorCode } from '../errors.js';
import type { ExecuteRequest } from '../engine/request.js';
import type { ImageManifest } from '../images/manifest.js';

/** What an execution job carries (job id = its token). */
export interface ExecJobData {
  request: ExecuteRequest;
  /** The backend it runs on, picked by the API (always one of the profile's). */
  backend: string;
  traceId: string;
  token: string;
  owner?: string;
  expectedOutput?: string;
  /** The API streams its output: the worker reports chunks as job progress. */
  stream?: boolean;
  /** Per stream, the most bytes of stdout/stderr the job's return value keeps (submissions). */
  maxOutputBytes?: number;
  /** The API replica waiting for this (synchronous) job: its worker publishes the outcome on `rc:reply:<replyTo>`. */
  replyTo?: string;
}

/** A job's outcome as a worker publishes it to the waiting API (the events stream carries the same, later). */
export interface DirectReply {
  queue: string;
  jobId: string;
  state: 'completed' | 'failed';
  /** completed: the result; failed: the failedReason BullMQ stores too. */
  value?: unknown;
  reason?: string;
}

/** A job's progress while it streams: a chunk of output or a stage start (StreamHandlers, over Redis). */
export type ExecProgress = { stage: string } | { stream: 'stdout' | 'stderr'; data_b64: string; seq: number; stage: string };

/** What a worker registers (`rc:worker:<id>`), renewed by its heartbeat. */
export interface WorkerRecord {
  id: string;
  hostname: string;
  pid: number;
  queue: string;
  concurrency: number;
  running: number;
  started_at: string;
}

/** A capability profile (`rc:profiles` field = its queue), written by its workers at start. */
export interface ProfileRecord {
  queue: string;
  defaultBackend: string;
  /** `backend:language`, sorted. */
  capabilities: string[];
  /** The manifests of its images (versions for /api/v1/languages and Piston's runtimes). */
  manifests: Record<string, ImageManifest>;
}

/** BullMQ's failedReason when a job stalled more often than maxStalledCount allows. */
const STALLED = 'job stalled more than allowable limit';

/**
 * A RunnerError a worker threw, as a job's failedReason: `CODE message`, or `CODE\tfield\tmessage`
 * for bad input. BullMQ keeps one string per failure; errorOfFailedReason() reads it back.
 */
export function failedReasonOf(err: RunnerError): string {
  return err instanceof InvalidRequestError ? `${err.code}\t${err.field}\t${err.message}` : `${err.code} ${err.message}`;
}

/** A job's failedReason as the RunnerError the caller sees: stalls twice → WORKER_LOST. */
export function errorOfFailedReason(reason: string | undefined): RunnerError {
  const text = reason ?? '';
  if (text === STALLED || text.includes(STALLED)) {
    return new RunnerError(ErrorCodes.WORKER_LOST, 'the job was given up: the worker running it was lost twice (killed, or it stopped renewing its lock)', { hint: 'retry the request; check the workers (docs/queue.md, Faults)' });
  }
  const match = /^(RC_ERR_[A-Z_]+)(?:\t([^\t]+)\t| )([\s\S]*)$/.exec(text);
  if (!match) return new RunnerError(ErrorCodes.INTERNAL, `the job failed: ${text.slice(0, 500)}`);
  const [, code, field, message] = match;
  if (field !== undefined) {
    const error = new InvalidRequestError(field, '', code as ErrorCode);
    Object.defineProperty(error, 'message', { value: message });
    return error;
  }
  return new RunnerError(code as ErrorCode, message!);
}
