import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import type { Redis, RedisOptions } from 'ioredis';
import { ErrorCodes, RunnerError, isRunnerError } from '../errors.js';
import type { ImageStore } from '../images/store.js';
import { getLanguage } from '../languages/lookup.js';
import { DEFAULT_LIMITS, resolveLimits, type Limits } from '../engine/limits.js';
import { normalizeRequest, type ExecuteRequest, type InputMaxima } from '../engine/request.js';
import type { ExecutionResult } from '../engine/result.js';
import type { ExecutedHook, Service, ServiceExecuteOptions, ServiceLoad, ServicePoolStats } from '../engine/service.js';
import type { SessionService } from '../engine/sessions/session-service.js';
import { orUnavailable, queueUnavailable } from './redis-connections.js';
import { errorOfFailedReason, type ExecJobData, type ExecProgress } from './job-data.js';
import { JobEvents, type JobOutcome } from './job-events.js';
import type { Fleet } from './fleet.js';
import type { QueueKeys } from './queue-keys.js';
import { REFUSED_SESSIONS, notInQueueMode } from './refused-sessions.js';
import { traceHop } from './hop-trace.js';

export interface QueueServiceOptions {
  /** The request connection (no offline queue): adds, removes, cancels. */
  redis: Redis;
  /** Options of BullMQ's blocking connections (QueueEvents). */
  blocking: RedisOptions;
  keys: QueueKeys;
  fleet: Fleet;
  images: ImageStore;
  /** Requests are checked here first (a bad one never reaches a worker): the API's maxima. */
  maxima: Limits;
  inputMaxima: InputMaxima;
  defaults?: Limits;
  /** The longest a call waits for its job. */
  waitMs: number;
  /** The orphaned queues' reaper, stopped by close(). */
  reaper?: { stop(): Promise<void> };
}

/** What a job adds to the queue beyond the request (submissions use it too). */
export interface EnqueueOptions {
  traceId?: string;
  backend?: string;
  token?: string;
  owner?: string;
  expectedOutput?: string;
  stream?: boolean;
  /** A submission's: the worker bounds the stored result to this many bytes per stream and adds the verdict. */
  maxOutputBytes?: number;
  /** A synchronous call's: the worker publishes the outcome to this replica straight away (JobEvents). */
  replyTo?: string;
}

/**
 * The engine's Service in queue mode: each execution is a BullMQ job in the queue of a capability
 * profile that can run it (fleet.ts), run by an `infra.operator worker`, and waited for through the
 * queue's events. Every edge (/api/v1/execute, /api/v1/run, Piston, MCP run_code) keeps working
 * over it; sessions and interactive input are refused (RC_ERR_NOT_IN_QUEUE_MODE).
 */
export class QueueService implements Service {
  readonly #options: QueueServiceOptions;
  readonly #queues = new Map<string, Queue>();
  readonly events: JobEvents;
  readonly #hooks: ExecutedHook[] = [];
  readonly #waitHooks: ((waitedMs: number) => void)[] = [];
  readonly #inFlight = new Set<AbortController>();
  #closed = false;

  constructor(options: QueueServiceOptions) {
    this.#options = options;
    this.events = new JobEvents(options.blocking, options.redis, options.keys);
  }

  get fleet(): Fleet {
    return this.#options.fleet;
  }

  get keys(): QueueKeys {
    return this.#options.keys;
  }

  get redis(): Redis {
    return this.#options.redis;
  }

  /** Options of BullMQ's blocking connections (for further Workers: the callbacks consumer). */
  get blocking(): RedisOptions {
    return this.#options.blocking;
  }

  get backendName(): string {
    return this.#options.fleet.backends()[0] ?? 'bwrap';
  }

  get backendNames(): readonly string[] {
    const names = this.#options.fleet.backends();
    return names.length > 0 ? names : [this.backendName];
  }

  get images(): ImageStore {
    return this.#options.images;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get sessions(): SessionService {
    return REFUSED_SESSIONS;
  }

  /** The BullMQ Queue of a profile queue, on the shared request connection. */
  queue(name: string): Queue {
    let queue = this.#queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.#options.redis, prefix: this.#options.keys.prefix, skipWaitingForReady: true });
      queue.on('error', () => undefined);
      this.#queues.set(name, queue);
    }
    return queue;
  }

  /** Checks a request as the engine would (language, files, limits): a bad one fails here, naming the field. */
  validate(request: ExecuteRequest): string {
    const language = getLanguage(request.language);
    normalizeRequest(request, language, this.#options.inputMaxima);
    resolveLimits(language, request.limits, this.#options.defaults ?? DEFAULT_LIMITS, this.#options.maxima);
    return language.id;
  }

  /**
   * Validates and routes one job: its queue, token and data, ready to add. Throws NO_WORKER,
   * QUEUE_UNAVAILABLE or the request's own error (naming the field).
   */
  async enqueue(request: ExecuteRequest, options: EnqueueOptions): Promise<{ queue: string; token: string; data: ExecJobData }> {
    if (this.#closed) throw new RunnerError(ErrorCodes.SHUTTING_DOWN, 'the server is shutting down');
    const language = this.validate(request);
    const route = await this.#options.fleet.route(language, options.backend);
    const token = options.token ?? randomUUID();
    const data: ExecJobData = {
      request,
      backend: route.backend,
      traceId: options.traceId ?? token,
      token,
      ...(options.owner !== undefined ? { owner: options.owner } : {}),
      ...(options.expectedOutput !== undefined ? { expectedOutput: options.expectedOutput } : {}),
      ...(options.stream ? { stream: true } : {}),
      ...(options.maxOutputBytes !== undefined ? { maxOutputBytes: options.maxOutputBytes } : {}),
      ...(options.replyTo !== undefined ? { replyTo: options.replyTo } : {}),
    };
    return { queue: route.queue, token, data };
  }

  async execute(request: ExecuteRequest, options: ServiceExecuteOptions): Promise<ExecutionResult> {
    if (options.input) throw notInQueueMode('interactive input (stdin sent while the program runs)');
    const called = process.hrtime.bigint();
    const { queue, token, data } = await this.enqueue(request, {
      ...(options.traceId ? { traceId: options.traceId } : {}),
      ...(options.backend ? { backend: options.backend } : {}),
      ...(options.stream ? { stream: true } : {}),
      replyTo: this.events.replica,
    });
    traceHop('api-start', data.traceId, called);
    await orUnavailable(() => this.events.ready(queue));
    const added = performance.now();
    const { stream, onStart } = options;
    // Only a caller that wants the start or the stream makes the waiter eager: a plain synchronous
    // job is answered by its direct reply, and its queue's events are read lazily (job-events.ts).
    const waiter = this.events.wait(queue, token, {
      ...(onStart ? { onActive: once(onStart) } : {}),
      ...(stream ? { onProgress: (progress: ExecProgress) => deliver(stream, progress) } : {}),
    });
    const done = this.#options.fleet.track(queue);
    const controller = new AbortController();
    this.#inFlight.add(controller);
    const onAbort = (): void => controller.abort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      try {
        traceHop('api-add', data.traceId);
        await this.queue(queue).add('exec', data, { jobId: token, attempts: 1, removeOnComplete: true, removeOnFail: true });
      } catch (err) {
        throw isRunnerError(err) ? err : queueUnavailable(err);
      }
      const outcome = await this.#settle(waiter.outcome, controller.signal, () => this.cancel(queue, token));
      traceHop('api-result', data.traceId);
      const result = resultOf(outcome);
      // The time it was not running: waiting for a worker, and the two hops through Redis.
      const waitedMs = Math.max(0, performance.now() - added - (result.timings?.total_ms ?? 0));
      for (const hook of this.#hooks) hook(result, waitedMs);
      this.#waited(waitedMs);
      return result;
    } finally {
      waiter.cancel();
      done();
      options.signal?.removeEventListener('abort', onAbort);
      this.#inFlight.delete(controller);
    }
  }

  /** The outcome, or CANCELLED when the caller went away, or QUEUE_UNAVAILABLE past the wait bound. */
  async #settle(outcome: Promise<JobOutcome>, signal: AbortSignal, cancel: () => Promise<unknown>): Promise<JobOutcome> {
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    try {
      return await Promise.race([
        outcome,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            void cancel().catch(() => undefined);
            reject(new RunnerError(ErrorCodes.QUEUE_UNAVAILABLE, `no result from the queue within ${this.#options.waitMs} ms`, { hint: 'check that workers are running and Redis is reachable' }));
          }, this.#options.waitMs);
          onAbort = () => {
            void cancel().catch(() => undefined);
            reject(new RunnerError(ErrorCodes.CANCELLED, 'the execution was cancelled'));
          };
          if (signal.aborted) onAbort();
          else signal.addEventListener('abort', onAbort, { once: true });
        }),
      ]);
    } finally {
      clearTimeout(timer);
      if (onAbort) signal.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Cancels a job: a waiting one is removed (its waiters see `removed`), a running one is aborted by
   * the worker holding it (pub/sub on `rc:cancel`). 'finished' when it is no longer there to cancel.
   */
  async cancel(queue: string, token: string): Promise<'removed' | 'signalled'> {
    const removed = await orUnavailable(() => this.queue(queue).remove(token)).catch((err) => {
      if (isRunnerError(err)) throw err;
      return 0; // locked by a worker: it runs now
    });
    if (removed === 1) return 'removed';
    await orUnavailable(() => this.#options.redis.publish(this.#options.keys.cancel, JSON.stringify({ queue, token })));
    return 'signalled';
  }

  async canAccept(): Promise<boolean> {
    return !this.#closed;
  }

  async load(): Promise<ServiceLoad> {
    const { running, pending } = this.#options.fleet.load();
    return { running, queued: Math.max(0, pending - running) };
  }

  async poolStats(): Promise<ServicePoolStats | null> {
    return null;
  }

  onExecuted(hook: ExecutedHook): void {
    this.#hooks.push(hook);
  }

  /** Called with how long each job of this replica (a synchronous call or a submission) waited for a worker. */
  onWaited(hook: (waitedMs: number) => void): void {
    this.#waitHooks.push(hook);
  }

  #waited(waitedMs: number): void {
    for (const hook of this.#waitHooks) hook(waitedMs);
  }

  /**
   * Times a submission's wait for a worker (its queue's `active` event; call after ready(queue),
   * before adding it). The returned function forgets it (the add failed); its end forgets it too.
   */
  watchWait(queue: string, token: string): () => void {
    const queued = performance.now();
    const waiter = this.events.wait(queue, token, {
      onActive: () => {
        waiter.cancel();
        this.#waited(performance.now() - queued);
      },
    });
    return waiter.cancel;
  }

  stopAccepting(): void {
    this.#closed = true;
  }

  cancelAll(): void {
    for (const controller of this.#inFlight) controller.abort();
  }

  async close(): Promise<void> {
    this.stopAccepting();
    this.cancelAll();
    this.#options.fleet.stop();
    await this.#options.reaper?.stop();
    await this.events.close();
    await Promise.all([...this.#queues.values()].map((queue) => queue.close().catch(() => undefined)));
    this.#options.redis.disconnect();
  }
}

/** A finished job as the caller's result, or the error it failed with. */
export function resultOf(outcome: JobOutcome): ExecutionResult {
  if (outcome.state === 'completed') return outcome.value as ExecutionResult;
  if (outcome.state === 'removed') throw new RunnerError(ErrorCodes.CANCELLED, 'the execution was cancelled before it ran');
  throw errorOfFailedReason(outcome.reason);
}

/** `fn` called once at most, whatever calls it again (a job's `active` event comes once per attempt). */
function once(fn: () => void): () => void {
  let called = false;
  return () => {
    if (called) return;
    called = true;
    fn();
  };
}

function deliver(stream: NonNullable<ServiceExecuteOptions['stream']>, progress: ExecProgress): void {
  if ('stream' in progress) stream.onOutput?.(progress.stream, Buffer.from(progress.data_b64, 'base64'), progress.seq, progress.stage);
  else stream.onStage?.(progress.stage);
}
