import { FlowProducer, type ConnectionOptions, type FlowJob, type Worker } from 'bullmq';
import { ErrorCodes, RunnerError } from '../errors.js';
import type { MaximaSettings } from '../engine/maxima.js';
import type { ExecutionResult } from '../engine/result.js';
import { parseAllowlist } from '../engine/submissions/callback-allowlist.js';
import type { CallbackLog } from '../engine/submissions/callback-delivery.js';
import { judge0StatusOf } from '../engine/submissions/judge0-status.js';
import { executeRequestOf } from '../engine/submissions/local-submissions.js';
import type { SubmissionSettings } from '../engine/submissions/submission-settings.js';
import type { SubmissionRecord, SubmissionRequest, SubmissionResult, Submissions, SubmitOptions } from '../engine/submissions/types.js';
import { validateSubmissions, type SubmissionRules } from '../engine/submissions/validate-submissions.js';
import { CALLBACKS_QUEUE, callbackJobOptions, startCallbackWorker, type CallbackJobData } from './callback-worker.js';
import { errorOfFailedReason } from './job-data.js';
import { orUnavailable, queueUnavailable } from './redis-connections.js';
import type { QueueService } from './queue-service.js';

export interface RedisSubmissionsOptions {
  settings: SubmissionSettings;
  maxima: MaximaSettings;
  maxBatch: number;
  log?: CallbackLog;
}

/** The job fields a record is made of (never `data`: it holds the whole program). */
const FIELDS = ['name', 'timestamp', 'processedOn', 'finishedOn', 'returnvalue', 'failedReason'] as const;
type JobFields = Record<(typeof FIELDS)[number], string | null>;

/** A job's name carries its owner, so that a GET reads no job data: `sub` or `sub:<apiKeyId>`. */
const nameOf = (owner: string | undefined): string => (owner === undefined ? 'sub' : `sub:${owner}`);
const ownerOfName = (name: string): string | undefined => (name.startsWith('sub:') ? name.slice(4) : undefined);

/**
 * Submissions in queue mode: each one a BullMQ job in its profile queue (job id = token), its
 * record read back from the job (state, timestamps, the worker's bounded result with its verdict);
 * with a callback_url, a flow whose parent job in `callbacks` runs once the execution ended either
 * way (callback-worker.ts delivers it). Finished jobs are kept `submission_ttl_s` (and at most
 * `submission_max_stored` per queue), then gone. Cancel removes a waiting job or signals the worker
 * running it (pub/sub), and leaves a `cancelled` record for the rest of the retention time.
 */
export class RedisSubmissions implements Submissions {
  readonly #service: QueueService;
  readonly #settings: SubmissionSettings;
  readonly #rules: SubmissionRules;
  readonly #flows: FlowProducer;
  readonly #callbacks: Worker | undefined;
  #closed = false;

  constructor(service: QueueService, blocking: ConnectionOptions, options: RedisSubmissionsOptions) {
    this.#service = service;
    this.#settings = options.settings;
    const allowlist = parseAllowlist(options.settings.callbacks.allowlist);
    if (allowlist.length > 0 && options.settings.callbacks.secret === '') {
      throw new RunnerError(ErrorCodes.CONFIG, '--callback-allowlist needs --callback-secret: callbacks are signed with it');
    }
    this.#rules = { maxima: options.maxima, allowlist, maxBatch: options.maxBatch };
    this.#flows = new FlowProducer({ connection: service.redis, prefix: service.keys.prefix });
    this.#flows.on('error', () => undefined);
    if (allowlist.length > 0) {
      this.#callbacks = startCallbackWorker({ connection: blocking, prefix: service.keys.prefix, settings: options.settings.callbacks, records: this, ...(options.log ? { log: options.log } : {}) });
    }
  }

  async submit(requests: SubmissionRequest[], options: SubmitOptions): Promise<string[]> {
    if (this.#closed) throw new RunnerError(ErrorCodes.SHUTTING_DOWN, 'the server is shutting down');
    validateSubmissions(requests, this.#rules);
    const keep = { age: Math.ceil(this.#settings.ttlMs / 1000), count: this.#settings.maxStored };
    // Routed all first: a request no worker can run fails the whole batch before anything is added.
    const flows: FlowJob[] = [];
    const tokens: string[] = [];
    for (const [i, request] of requests.entries()) {
      const { queue, token, data } = await this.#service.enqueue(executeRequestOf(request), {
        ...(options.traceId ? { traceId: `${options.traceId}-${i}` } : {}),
        ...(request.backend ? { backend: request.backend } : {}),
        ...(options.owner !== undefined ? { owner: options.owner } : {}),
        ...(request.expectedOutput !== undefined ? { expectedOutput: request.expectedOutput } : {}),
        maxOutputBytes: this.#settings.maxOutputBytes,
      });
      tokens.push(token);
      const exec: FlowJob = { name: nameOf(options.owner), queueName: queue, data, opts: { jobId: token, attempts: 1, removeOnComplete: keep, removeOnFail: keep } };
      if (request.callbackUrl === undefined) {
        flows.push(exec);
        continue;
      }
      const callback: CallbackJobData = { token, url: request.callbackUrl, ...(options.owner !== undefined ? { owner: options.owner } : {}) };
      flows.push({
        name: 'callback',
        queueName: CALLBACKS_QUEUE,
        data: callback,
        opts: { jobId: token, ...callbackJobOptions(this.#settings.callbacks), removeOnComplete: keep, removeOnFail: keep },
        children: [{ ...exec, opts: { ...exec.opts, ignoreDependencyOnFailure: true } }],
      });
    }
    // The wait metric: each queue's events read before its jobs are added (so no start is missed).
    const queues = [...new Set(flows.map((flow) => flow.children?.[0]?.queueName ?? flow.queueName))];
    await Promise.all(queues.map((queue) => orUnavailable(() => this.#service.events.ready(queue))));
    const forget = flows.map((flow, i) => this.#service.watchWait(flow.children?.[0]?.queueName ?? flow.queueName, tokens[i]!));
    // One MULTI for the whole batch: all of it is queued, or none.
    try {
      await orUnavailable(() => this.#flows.addBulk(flows));
    } catch (err) {
      for (const drop of forget) drop();
      throw err;
    }
    return tokens;
  }

  /** The token's job: its queue and fields, or undefined (unknown, expired, another owner's). */
  async #find(token: string, owner: string | undefined): Promise<{ queue: string; job: JobFields; cancelled: SubmissionRecord | undefined } | undefined> {
    const queues = [...this.#service.fleet.profiles.keys()];
    const { keys, redis } = this.#service;
    const pipeline = redis.pipeline();
    for (const queue of queues) pipeline.hmget(keys.job(queue, token), ...FIELDS);
    pipeline.get(this.#cancelledKey(token));
    const replies = (await orUnavailable(() => pipeline.exec())) ?? [];
    // A command's own error (Redis still LOADING its append-only file after a restart, ...) is not
    // "no such job": answering undefined would expire the record, and drop its callback, for good.
    const failed = replies.find(([err]) => err);
    if (failed) throw queueUnavailable(failed[0]);
    const tombstone = replies.pop()?.[1] as string | null;
    for (const [i, queue] of queues.entries()) {
      const values = replies[i]?.[1] as (string | null)[] | undefined;
      if (!values || values[0] === null) continue;
      const job = Object.fromEntries(FIELDS.map((field, j) => [field, values[j] ?? null])) as JobFields;
      if (ownerOfName(job.name!) !== owner) return undefined;
      if (job.finishedOn && Date.now() - Number(job.finishedOn) > this.#settings.ttlMs) return undefined;
      return { queue, job, cancelled: tombstone ? (JSON.parse(tombstone) as SubmissionRecord) : undefined };
    }
    if (tombstone) {
      const record = JSON.parse(tombstone) as SubmissionRecord & { owner?: string };
      if (record.owner !== owner) return undefined;
      return { queue: '', job: { name: nameOf(owner), timestamp: null, processedOn: null, finishedOn: null, returnvalue: null, failedReason: null }, cancelled: record };
    }
    return undefined;
  }

  #cancelledKey(token: string): string {
    return `${this.#service.keys.prefix}:cancelled:${token}`;
  }

  async get(token: string, options: { owner?: string; waitMs?: number }): Promise<SubmissionRecord | undefined> {
    const found = await this.#find(token, options.owner);
    if (!found) return undefined;
    let record = recordOf(token, found.job, found.cancelled);
    const waitMs = Math.min(options.waitMs ?? 0, this.#settings.maxWaitMs);
    if (waitMs <= 0 || record.status === 'done' || record.status === 'failed') return record;
    await orUnavailable(() => this.#service.events.ready(found.queue));
    const waiter = this.#service.events.wait(found.queue, token, { eager: true });
    let timer: NodeJS.Timeout | undefined;
    try {
      // Read again once the waiter is in place: a job that finished in between is not waited for.
      const again = await this.#find(token, options.owner);
      if (!again) return undefined;
      record = recordOf(token, again.job, again.cancelled);
      if (record.status === 'done' || record.status === 'failed') return record;
      await Promise.race([waiter.outcome, new Promise((resolve) => (timer = setTimeout(resolve, waitMs)))]);
    } finally {
      clearTimeout(timer);
      waiter.cancel();
    }
    const last = await this.#find(token, options.owner);
    return last && recordOf(token, last.job, last.cancelled);
  }

  async cancel(token: string, options: { owner?: string }): Promise<'cancelled' | 'finished' | 'unknown'> {
    const found = await this.#find(token, options.owner);
    if (!found) return 'unknown';
    const record = recordOf(token, found.job, found.cancelled);
    if (record.status === 'done' || record.status === 'failed') return 'finished';
    const cancelled: SubmissionRecord & { owner?: string } = {
      ...record,
      status: 'failed',
      judge0_status: judge0StatusOf('failed'),
      finished_at: new Date().toISOString(),
      error: { code: ErrorCodes.CANCELLED, message: 'cancelled by the caller' },
      ...(options.owner !== undefined ? { owner: options.owner } : {}),
    };
    // The record says cancelled from now on, whatever a late result of the worker says.
    await orUnavailable(() => this.#service.redis.set(this.#cancelledKey(token), JSON.stringify(cancelled), 'PX', this.#settings.ttlMs));
    await this.#service.cancel(found.queue, token);
    return 'cancelled';
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#callbacks?.close().catch(() => undefined);
    await this.#flows.close().catch(() => undefined);
  }
}

/** A submission's record from its job's fields (and its cancel record, which wins). */
function recordOf(token: string, job: JobFields, cancelled: (SubmissionRecord & { owner?: string }) | undefined): SubmissionRecord {
  if (cancelled) {
    const { owner: _owner, ...record } = cancelled;
    return record;
  }
  const iso = (ms: string | null): string | undefined => (ms ? new Date(Number(ms)).toISOString() : undefined);
  const created_at = iso(job.timestamp) ?? new Date().toISOString();
  const started_at = iso(job.processedOn);
  const finished_at = iso(job.finishedOn);
  const times = { created_at, ...(started_at ? { started_at } : {}), ...(finished_at ? { finished_at } : {}) };
  if (finished_at && job.failedReason) {
    const error = errorOfFailedReason(job.failedReason);
    return { token, status: 'failed', judge0_status: judge0StatusOf('failed'), ...times, error: { code: error.code, message: error.message } };
  }
  if (finished_at && job.returnvalue !== null) {
    const result = JSON.parse(job.returnvalue) as ExecutionResult as SubmissionResult;
    if (result.status === 'failed') {
      return { token, status: 'failed', judge0_status: judge0StatusOf('failed'), ...times, error: result.error ?? { code: ErrorCodes.INTERNAL, message: 'the execution failed' } };
    }
    return { token, status: 'done', judge0_status: judge0StatusOf('done', result), ...times, result };
  }
  if (started_at) return { token, status: 'running', judge0_status: judge0StatusOf('running'), ...times };
  return { token, status: 'queued', judge0_status: judge0StatusOf('queued'), ...times };
}
