import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCodes, RunnerError, isRunnerError } from '../../errors.js';
import type { MaximaSettings } from '../maxima.js';
import type { ExecuteRequest } from '../request.js';
import type { ExecutionResult } from '../result.js';
import type { Service } from '../service.js';
import { boundedResult } from './bounded-result.js';
import { parseAllowlist } from './callback-allowlist.js';
import { deliverWithRetries, type CallbackLog } from './callback-delivery.js';
import { judge0StatusOf } from './judge0-status.js';
import { SubmissionStore, type StoredSubmission } from './submission-store.js';
import type { SubmissionSettings } from './submission-settings.js';
import type { SubmissionRecord, SubmissionRequest, SubmissionResult, Submissions, SubmitOptions } from './types.js';
import { validateSubmissions, type SubmissionRules } from './validate-submissions.js';
import { verdictOf } from './verdict.js';

export interface LocalSubmissionsOptions {
  settings: SubmissionSettings;
  /** The request maxima of the server (the engine's own, so that submit refuses what execute would). */
  maxima: MaximaSettings;
  maxBatch: number;
  log?: CallbackLog;
}

/** The engine's request of a submission: what the asynchronous path adds taken off. */
export function executeRequestOf(request: SubmissionRequest): ExecuteRequest {
  const { expectedOutput: _expected, callbackUrl: _callback, backend: _backend, ...execute } = request;
  return execute;
}

/**
 * What a finished execution becomes: `done` with the bounded result and its verdict, or `failed`
 * with the error when the service itself failed (the result then says nothing about the program).
 */
export function finishedRecord(base: SubmissionRecord, request: SubmissionRequest, result: ExecutionResult, maxOutputBytes: number): SubmissionRecord {
  const finished_at = new Date().toISOString();
  if (result.status === 'failed') {
    const error = result.error ?? { code: ErrorCodes.INTERNAL, message: 'the execution failed' };
    return { ...base, status: 'failed', judge0_status: judge0StatusOf('failed'), finished_at, error };
  }
  const encoding = request.outputEncoding ?? 'utf8';
  const verdict = verdictOf(result, request.expectedOutput, encoding);
  // The verdict is taken on the whole output, before it is cut for storage.
  const stored: SubmissionResult = { ...boundedResult(result, maxOutputBytes, encoding), ...(verdict ? { verdict } : {}) };
  return { ...base, status: 'done', judge0_status: judge0StatusOf('done', stored), finished_at, result: stored };
}

export function failedRecord(base: SubmissionRecord, error: { code: string; message: string }): SubmissionRecord {
  return { ...base, status: 'failed', judge0_status: judge0StatusOf('failed'), finished_at: new Date().toISOString(), error };
}

/**
 * Submissions in this process, over the Service (the same queue and backpressure as
 * /api/v1/execute): records in memory (SubmissionStore), callbacks delivered from here. Used
 * when the API is not in queue mode; the queue mode has RedisSubmissions instead.
 */
export class LocalSubmissions implements Submissions {
  readonly #service: Service;
  readonly #settings: SubmissionSettings;
  readonly #rules: SubmissionRules;
  readonly #store: SubmissionStore;
  readonly #log: CallbackLog | undefined;
  /** Executions and callback deliveries still going (close() waits for them). */
  readonly #going = new Set<Promise<unknown>>();
  readonly #closing = new AbortController();

  constructor(service: Service, options: LocalSubmissionsOptions) {
    this.#service = service;
    this.#settings = options.settings;
    const allowlist = parseAllowlist(options.settings.callbacks.allowlist);
    if (allowlist.length > 0 && options.settings.callbacks.secret === '') {
      throw new RunnerError(ErrorCodes.CONFIG, '--callback-allowlist needs --callback-secret: callbacks are signed with it');
    }
    this.#rules = { maxima: options.maxima, backends: service.backendNames, allowlist, images: service.images, maxBatch: options.maxBatch };
    this.#store = new SubmissionStore(options.settings.ttlMs, options.settings.maxStored);
    this.#log = options.log;
  }

  async submit(requests: SubmissionRequest[], options: SubmitOptions): Promise<string[]> {
    if (this.#closing.signal.aborted) throw new RunnerError(ErrorCodes.SHUTTING_DOWN, 'the server is shutting down');
    validateSubmissions(requests, this.#rules);
    this.#store.ensureRoom(requests.length);
    if (!(await this.#service.canAccept(requests.length))) {
      throw new RunnerError(ErrorCodes.QUEUE_FULL, `no room for ${requests.length} executions: the queue is full`);
    }
    return requests.map((request) => this.#start(request, options));
  }

  #start(request: SubmissionRequest, options: SubmitOptions): string {
    const token = randomUUID();
    const entry = this.#store.add({ token, status: 'queued', judge0_status: judge0StatusOf('queued'), created_at: new Date().toISOString() }, options.owner, request.callbackUrl);
    const onStart = (): void => {
      if (entry.record.status !== 'queued') return;
      entry.record = { ...entry.record, status: 'running', judge0_status: judge0StatusOf('running'), started_at: new Date().toISOString() };
    };
    const execution = this.#service
      .execute(executeRequestOf(request), {
        traceId: options.traceId ?? token,
        signal: entry.controller.signal,
        onStart,
        ...(request.backend ? { backend: request.backend } : {}),
      })
      .then(
        (result) => finishedRecord(entry.record, request, result, this.#settings.maxOutputBytes),
        (err: unknown) => failedRecord(entry.record, isRunnerError(err) ? { code: err.code, message: err.message } : { code: ErrorCodes.INTERNAL, message: 'internal error' }),
      )
      .then((record) => this.#finish(entry, record));
    this.#track(execution);
    return token;
  }

  /** Ends a submission once (done, failed or cancelled: whichever comes first) and POSTs its record to its callback. */
  #finish(entry: StoredSubmission, record: SubmissionRecord): void {
    if (!this.#store.finish(entry, record) || entry.callbackUrl === undefined) return;
    this.#track(deliverWithRetries(entry.record, entry.callbackUrl, this.#settings.callbacks, this.#closing.signal, this.#log));
  }

  #track(going: Promise<unknown>): void {
    const tracked = going.catch(() => undefined).finally(() => this.#going.delete(tracked));
    this.#going.add(tracked);
  }

  async get(token: string, options: { owner?: string; waitMs?: number }): Promise<SubmissionRecord | undefined> {
    const entry = this.#store.find(token, options.owner);
    if (!entry) return undefined;
    const waitMs = Math.min(options.waitMs ?? 0, this.#settings.maxWaitMs);
    if (waitMs > 0 && (entry.record.status === 'queued' || entry.record.status === 'running')) {
      const timeout = new AbortController();
      // Shutting down ends the wait too: a long poll must not hold the server open.
      await Promise.race([entry.finished, sleep(waitMs, undefined, { signal: AbortSignal.any([timeout.signal, this.#closing.signal]) }).catch(() => undefined)]);
      timeout.abort();
    }
    return { ...entry.record };
  }

  async cancel(token: string, options: { owner?: string }): Promise<'cancelled' | 'finished' | 'unknown'> {
    const entry = this.#store.find(token, options.owner);
    if (!entry) return 'unknown';
    if (entry.record.status === 'done' || entry.record.status === 'failed') return 'finished';
    // The record ends now; the execution's late result finds it ended and is dropped.
    this.#finish(entry, failedRecord(entry.record, { code: ErrorCodes.CANCELLED, message: 'cancelled by the caller' }));
    entry.controller.abort();
    return 'cancelled';
  }

  /**
   * Takes no more submissions, answers every waiting GET, stops callback retries, and waits for
   * what is still running: the service's shutdown (grace period, then cancel) bounds that wait.
   */
  async close(): Promise<void> {
    this.#closing.abort();
    await Promise.all(this.#going);
    this.#store.close();
  }
}
