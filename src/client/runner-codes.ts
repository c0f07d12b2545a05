import { executionEvents } from './execution-events.js';
import { Session } from './session.js';
import { Transport, type RequestOptions, type RunnerCodesOptions } from './transport.js';
import type { ExecuteRequest, ExecutionEvent, ExecutionResult, Language, SessionCreateRequest, SessionInfo, Submission, SubmissionRequest } from './types.js';

/** How getSubmission reads: `wait` until it has finished (bounded by the server), only some `fields`. */
export interface GetSubmissionOptions extends RequestOptions {
  wait?: boolean;
  /** e.g. `['status', 'result.stdout']` (docs/api.md, Submissions). */
  fields?: string[];
}

/**
 * The Runner Codes HTTP API from JavaScript (docs/sdk.md), over fetch only: Node 20+ and browsers.
 *
 *   const rc = new RunnerCodes({ baseUrl: 'http://localhost:8080' });
 *   const { stdout } = await rc.execute({ language: 'python', code: 'print(6 * 7)' });
 *
 * Every failure is a RunnerCodesError subclass carrying the API's error code and HTTP status.
 */
export class RunnerCodes {
  readonly #transport: Transport;

  constructor(options: RunnerCodesOptions) {
    this.#transport = new Transport(options);
  }

  /**
   * Runs a program in a fresh sandbox and returns its result. The program failing, timing out or
   * running out of memory is still a result; only a failure of the service throws.
   */
  async execute(request: ExecuteRequest, options: RequestOptions = {}): Promise<ExecutionResult> {
    return this.#transport.json({ method: 'POST', path: 'api/v1/execute', json: request, ...options });
  }

  /** As `execute`, streamed: `stage`, `stdout` and `stderr` events as the program runs, then `result`. */
  executeStream(request: ExecuteRequest, options: RequestOptions = {}): AsyncGenerator<ExecutionEvent> {
    return executionEvents(this.#transport.events({ method: 'POST', path: 'api/v1/execute', json: request, ...options }));
  }

  /** Every language in the catalog, with whether it is installed and its default limits. */
  async languages(options: RequestOptions = {}): Promise<Language[]> {
    return this.#transport.json({ method: 'GET', path: 'api/v1/languages', ...options });
  }

  /** One language, by id or alias (NotFoundError when there is none). */
  async language(id: string, options: RequestOptions = {}): Promise<Language> {
    return this.#transport.json({ method: 'GET', path: `api/v1/languages/${encodeURIComponent(id)}`, ...options });
  }

  /** Starts a session: a sandbox that stays up between calls, until closed, idle past its timeout, or past its lifetime. */
  async createSession(request: SessionCreateRequest, options: RequestOptions = {}): Promise<Session> {
    return new Session(this.#transport, await this.#transport.json<SessionInfo>({ method: 'POST', path: 'api/v1/sessions', json: request, ...options }));
  }

  /** One of the caller's sessions, by id (e.g. created by another process). */
  async session(id: string, options: RequestOptions = {}): Promise<Session> {
    return new Session(this.#transport, await this.#transport.json<SessionInfo>({ method: 'GET', path: `api/v1/sessions/${encodeURIComponent(id)}`, ...options }));
  }

  /** Queues one execution (Judge0's model) and returns its token at once; getSubmission tells how it went. */
  async submit(request: SubmissionRequest, options: RequestOptions = {}): Promise<string> {
    return (await this.#transport.json<{ token: string }>({ method: 'POST', path: 'api/v1/submissions', json: request, ...options })).token;
  }

  /** Queues a batch, all or nothing (a bad one is a BadRequestError naming `[i].field`); the tokens in order. */
  async submitBatch(requests: SubmissionRequest[], options: RequestOptions = {}): Promise<string[]> {
    return (await this.#transport.json<{ token: string }[]>({ method: 'POST', path: 'api/v1/submissions', json: requests, ...options })).map((t) => t.token);
  }

  /** A submission's record: `status`, `judge0_status`, and when done `result` (with `verdict` when it had an expected output). */
  async getSubmission(token: string, options: GetSubmissionOptions = {}): Promise<Submission> {
    const { wait, fields, ...rest } = options;
    const query = { ...(wait ? { wait: 'true' } : {}), ...(fields ? { fields: fields.join(',') } : {}) };
    return this.#transport.json({ method: 'GET', path: `api/v1/submissions/${encodeURIComponent(token)}`, query, ...rest });
  }

  /** Cancels a queued or running submission; returns its record (`failed`, RC_ERR_CANCELLED, unless it had finished). */
  async cancelSubmission(token: string, options: RequestOptions = {}): Promise<Submission> {
    return this.#transport.json({ method: 'DELETE', path: `api/v1/submissions/${encodeURIComponent(token)}`, ...options });
  }

  /** The caller's live sessions. */
  async sessions(options: RequestOptions = {}): Promise<SessionInfo[]> {
    return (await this.#transport.json<{ sessions: SessionInfo[] }>({ method: 'GET', path: 'api/v1/sessions', ...options })).sessions;
  }
}
