import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { UnrecoverableError, WaitingError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { ErrorCodes, RunnerError, isRunnerError } from '../errors.js';
import { printable } from '../safe-text.js';
import { LANGUAGES } from '../languages/catalog.js';
import { findLanguage } from '../languages/lookup.js';
import type { ExecutionService } from '../engine/service.js';
import type { ExecutionResult } from '../engine/result.js';
import type { ImageManifest } from '../images/manifest.js';
import { blockingConnectionOptions, isConnectionError } from './redis-connections.js';
import { boundedResult } from '../engine/submissions/bounded-result.js';
import { verdictOf } from '../engine/submissions/verdict.js';
import { traceHop } from './hop-trace.js';
import { capability, profileQueueName, type QueueKeys } from './queue-keys.js';
import { DirectReplies } from './direct-reply.js';
import { PipelinedWorker } from './pipelined-worker.js';
import { failedReasonOf, type DirectReply, type ExecJobData, type ExecProgress, type ProfileRecord, type WorkerRecord } from './job-data.js';

export interface QueueWorkerOptions {
  /** Where Redis is (redis-url.ts). */
  redis: RedisOptions;
  keys: QueueKeys;
  /** Jobs run at once (BullMQ's concurrency; the service's own is the same). */
  concurrency: number;
  /** Only these languages (ids or aliases), of those whose images are built; none = all built. */
  languages?: readonly string[];
  /** BullMQ lock: a worker that stops renewing it this long has its job counted as stalled. */
  lockDurationMs: number;
  /** How often BullMQ looks for stalled jobs (this worker's part of the fleet-wide check). */
  stalledIntervalMs: number;
  /** On drain, how long running jobs may finish before they go back to the queue for another worker. */
  drainTimeoutMs: number;
  heartbeatMs?: number;
  /** A worker id; default `<hostname>-<pid>-<random>`. */
  id?: string;
  /** Called with each job that ran (metrics). */
  onExecuted?: (result: ExecutionResult, language: string) => void;
  /** Where BullMQ's own errors go (not Redis being away: its connections retry on their own). */
  log?: (message: string) => void;
}

/** `--languages` as language ids; an unknown one is a CONFIG error naming it. */
export function languageIds(languages: readonly string[]): string[] {
  return languages.map((name) => {
    const lang = findLanguage(name);
    if (!lang) throw new RunnerError(ErrorCodes.CONFIG, `--languages: unknown language '${printable(name)}' (see \`infra.operator languages\`)`);
    return lang.id;
  });
}

/** A capability profile of a service: its backends × the languages whose images it has built. */
export function profileOf(service: ExecutionService, languages?: readonly string[]): ProfileRecord {
  const wanted = languages && languageIds(languages);
  const manifests: Record<string, ImageManifest> = {};
  const runnable = LANGUAGES.filter((lang) => {
    if (wanted && !wanted.includes(lang.id)) return false;
    const manifest = service.images.manifest(lang.image);
    if (manifest) manifests[lang.image] = manifest;
    return manifest !== null;
  });
  const capabilities = service.backendNames.flatMap((backend) => runnable.map((lang) => capability(backend, lang.id))).sort();
  return { queue: profileQueueName(service.backendName, capabilities), defaultBackend: service.backendName, capabilities, manifests };
}

/**
 * One sandbox host's worker: a BullMQ Worker on its capability profile's queue that runs each job
 * on this host's ExecutionService (its own pool, images and backends), registered in Redis with a
 * heartbeat so that APIs route to it; cancels arrive over pub/sub. kill -9 leaves its jobs to
 * BullMQ's stalled-job recovery (maxStalledCount 1: retried once on another worker).
 */
export class QueueWorker {
  readonly id: string;
  readonly profile: ProfileRecord;
  readonly #service: ExecutionService;
  readonly #options: QueueWorkerOptions;
  readonly #redis: Redis;
  readonly #subscriber: Redis;
  readonly #worker: Worker<ExecJobData, ExecutionResult>;
  readonly #replies: DirectReplies;
  readonly #startedAt = new Date().toISOString();
  #running = 0;
  #heartbeat: NodeJS.Timeout | undefined;
  /** Set when the drain timeout passed: aborted jobs go back to the queue instead of finishing. */
  #abandoning = false;
  #draining: Promise<void> | undefined;

  private constructor(service: ExecutionService, options: QueueWorkerOptions, profile: ProfileRecord) {
    this.#service = service;
    this.#options = options;
    this.profile = profile;
    this.id = options.id ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
    this.#redis = new Redis({ ...options.redis, maxRetriesPerRequest: 1, retryStrategy: (n) => Math.min(n * 100, 1000) });
    this.#redis.on('error', () => undefined);
    this.#replies = new DirectReplies(this.#redis, options.keys);
    this.#subscriber = new Redis(blockingConnectionOptions(options.redis));
    this.#subscriber.on('error', () => undefined);
    this.#worker = new PipelinedWorker<ExecJobData, ExecutionResult>(profile.queue, (job, token, signal) => this.#process(job, token, signal), {
      connection: blockingConnectionOptions(options.redis) as ConnectionOptions,
      prefix: options.keys.prefix,
      name: this.id,
      concurrency: options.concurrency,
      lockDuration: options.lockDurationMs,
      stalledInterval: options.stalledIntervalMs,
      // A job whose worker was lost is run once more (on another worker); lost again, it fails (WORKER_LOST).
      maxStalledCount: 1,
      autorun: false,
    }, this.#redis, (data) => data.replyTo === undefined);
    this.#worker.on('error', (err) => {
      if (!isConnectionError(err)) options.log?.(`worker ${this.id}: ${err.message}`);
    });
  }

  /** Registers the worker and starts taking jobs. */
  static async start(service: ExecutionService, options: QueueWorkerOptions): Promise<QueueWorker> {
    const profile = profileOf(service, options.languages);
    const worker = new QueueWorker(service, options, profile);
    await worker.#register();
    await worker.#subscriber.subscribe(options.keys.cancel);
    worker.#subscriber.on('message', (_channel, message) => worker.#onCancel(message));
    worker.#heartbeat = setInterval(() => void worker.#register().catch(() => undefined), options.heartbeatMs ?? 2000);
    void worker.#worker.run().catch(() => undefined);
    await worker.#worker.waitUntilReady();
    return worker;
  }

  get queue(): string {
    return this.profile.queue;
  }

  get running(): number {
    return this.#running;
  }

  /** The registration and its profile, renewed every heartbeat (a TTL of three heartbeats). */
  async #register(): Promise<void> {
    const beat = this.#options.heartbeatMs ?? 2000;
    const ttl = beat * 3;
    const record: WorkerRecord = { id: this.id, hostname: hostname(), pid: process.pid, queue: this.queue, concurrency: this.#options.concurrency, running: this.#running, started_at: this.#startedAt };
    const { keys } = this.#options;
    await this.#redis
      .multi()
      .set(keys.worker(this.id), JSON.stringify(record), 'PX', ttl)
      .zadd(keys.workers, Date.now() + ttl, this.id)
      .hset(keys.profiles, this.queue, JSON.stringify(this.profile))
      .exec();
  }

  #onCancel(message: string): void {
    try {
      const { token } = JSON.parse(message) as { token: string };
      if (typeof token === 'string') this.#worker.cancelJob(token, 'cancelled');
    } catch {
      // not ours
    }
  }

  async #process(job: Job<ExecJobData, ExecutionResult>, token: string | undefined, signal: AbortSignal | undefined): Promise<ExecutionResult> {
    const data = job.data;
    traceHop('worker-start', data.traceId);
    this.#running++;
    try {
      const result = await this.#service.execute(data.request, {
        traceId: data.traceId,
        backend: data.backend,
        ...(signal ? { signal } : {}),
        ...(data.stream ? { stream: progressOf(job) } : {}),
      });
      if (this.#abandoning && signal?.aborted) {
        // Drain timed out: the job goes back to the queue, another worker runs it.
        await job.moveToWait(token);
        throw new WaitingError();
      }
      traceHop('worker-end', data.traceId);
      this.#options.onExecuted?.(result, data.request.language);
      const value = submissionResultOf(result, data);
      await this.#reply(job, token, { state: 'completed', value });
      return value;
    } catch (err) {
      if (!isRunnerError(err)) throw err;
      const reason = failedReasonOf(err);
      await this.#reply(job, token, { state: 'failed', reason });
      throw new UnrecoverableError(reason);
    } finally {
      this.#running--;
    }
  }

  /** A synchronous job's outcome to its waiting API right away (direct-reply.ts); BullMQ records it next. */
  async #reply(job: Job<ExecJobData, ExecutionResult>, token: string | undefined, outcome: Pick<DirectReply, 'state' | 'value' | 'reason'>): Promise<void> {
    const { replyTo } = job.data;
    if (replyTo === undefined || token === undefined || job.id === undefined) return;
    await this.#replies.send(replyTo, token, { queue: this.queue, jobId: job.id, ...outcome });
  }

  /**
   * Graceful stop: deregister (APIs stop routing here), take no new job, let running ones finish for
   * up to the drain timeout, put the rest back in the queue; then close the connections.
   */
  drain(): Promise<void> {
    this.#draining ??= (async () => {
      clearInterval(this.#heartbeat);
      const { keys } = this.#options;
      await this.#redis.multi().del(keys.worker(this.id)).zrem(keys.workers, this.id).exec().catch(() => undefined);
      const closing = this.#worker.close();
      const timer = setTimeout(() => {
        this.#abandoning = true;
        this.#worker.cancelAllJobs('drain timeout');
      }, this.#options.drainTimeoutMs);
      try {
        await closing;
      } finally {
        clearTimeout(timer);
      }
      await this.#subscriber.quit().catch(() => this.#subscriber.disconnect());
      await this.#redis.quit().catch(() => this.#redis.disconnect());
    })();
    return this.#draining;
  }
}

/**
 * What a job returns: a synchronous call's result as it is; a submission's (it has maxOutputBytes)
 * with its verdict, taken on the whole output, then bounded for storage in Redis.
 */
function submissionResultOf(result: ExecutionResult, data: ExecJobData): ExecutionResult {
  if (data.maxOutputBytes === undefined || result.status === 'failed') return result;
  const encoding = data.request.outputEncoding ?? 'utf8';
  const verdict = verdictOf(result, data.expectedOutput, encoding);
  return { ...boundedResult(result, data.maxOutputBytes, encoding), ...(verdict ? { verdict } : {}) };
}

/** A job's stream handlers: each chunk and stage start as job progress (QueueEvents carries it to the API). */
function progressOf(job: Job<ExecJobData, ExecutionResult>) {
  const send = (progress: ExecProgress): void => void job.updateProgress(progress).catch(() => undefined);
  return {
    onOutput: (stream: 'stdout' | 'stderr', data: Buffer, seq: number, stage: string) => send({ stream, data_b64: data.toString('base64'), seq, stage }),
    onStage: (stage: string) => send({ stage }),
  };
}
