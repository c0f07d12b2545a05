import type { ExecuteRequest } from '../request.js';
import type { ExecutionResult } from '../result.js';

/** Where a submission is in its life: waiting, executing, finished with a result, or ended without one. */
export type SubmissionStatus = 'queued' | 'running' | 'done' | 'failed';
/** Judge0's status ids: 1 In Queue, 2 Processing, 3 Accepted, 4 Wrong Answer, 5 Time Limit Exceeded,
 *  6 Compilation Error, 7 Runtime Error (SIGSEGV), 8 (SIGXFSZ), 9 (SIGFPE), 10 (SIGABRT), 11 (NZEC),
 *  12 (Other), 13 Internal Error, 14 Exec Format Error. */
export interface Judge0Status { id: number; description: string }
/** An execution request plus what the asynchronous path adds: a verdict to check and a callback. */
export interface SubmissionRequest extends ExecuteRequest {
  expectedOutput?: string;
  callbackUrl?: string;
  backend?: string;
}
/** The usual result, bounded for storage, plus the verdict when `expectedOutput` was given. */
export interface SubmissionResult extends ExecutionResult {
  verdict?: 'accepted' | 'wrong_answer';
}
/** What GET returns (and what a callback POSTs). */
export interface SubmissionRecord {
  token: string;
  status: SubmissionStatus;
  judge0_status: Judge0Status;
  created_at: string; started_at?: string; finished_at?: string;
  /** status done: the result. status failed: absent, `error` says why (cancelled, worker lost twice, no worker, ...). */
  result?: SubmissionResult;
  error?: { code: string; message: string };
}
export interface SubmitOptions { owner?: string /* apiKeyId; tokens are visible only to their owner */; traceId?: string }
/** The asynchronous execution API: in-process (LocalSubmissions) or over the queue (RedisSubmissions). */
export interface Submissions {
  /** Validates every request first (all or nothing: InvalidRequestError naming `[i].field`), then queues; tokens in order. */
  submit(requests: SubmissionRequest[], options: SubmitOptions): Promise<string[]>;
  /** undefined: unknown, expired, or another owner's. waitMs > 0: resolves when finished or after waitMs. */
  get(token: string, options: { owner?: string; waitMs?: number }): Promise<SubmissionRecord | undefined>;
  /** Cancels a queued or running submission (it ends `failed`, error RC_ERR_CANCELLED). */
  cancel(token: string, options: { owner?: string }): Promise<'cancelled' | 'finished' | 'unknown'>;
  close(): Promise<void>;
}
