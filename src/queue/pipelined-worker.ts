import { RedisQueueBackend, Worker, type Job, type Processor, type WorkerOptions } from 'bullmq';
import type { Redis } from 'ioredis';

/** A moveToActive sent behind the blocking wait, on the same connection: its lock token and reply. */
interface Prefetch {
  token: string;
  reply: Promise<unknown[]>;
}

/**
 * Sets a prefetched job's start time to when it really started, unless the job is gone already (a
 * finished synchronous job is removed: HSET must not bring back an empty hash of it).
 */
const SET_PROCESSED_ON = `if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'processedOn', ARGV[1]) end return 0`;

/** The longest a prefetch's reply may lag behind its wait's. */
const PREFETCH_REPLY_MS = 5000;

const STUCK = Symbol('stuck');

/** `promise`, or STUCK if it has not settled within `ms`. */
async function within<T>(ms: number, promise: Promise<T>): Promise<T | typeof STUCK> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<typeof STUCK>((resolve) => (timer = setTimeout(() => resolve(STUCK), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

interface WithSetProcessedOn {
  rcSetProcessedOn(jobKey: string, processedOn: number): Promise<number>;
}

/**
 * BullMQ's Worker with its idle fetch in one round trip instead of two. An idle BullMQ worker blocks
 * on the queue's marker (BZPOPMIN), wakes when a job is added, then sends moveToActive and waits for
 * that reply: two wake-ups of the worker and a round trip between the job's add and its start. Here
 * moveToActive (BullMQ's own script, through BullMQ's own backend code) is sent right behind the
 * BZPOPMIN on the same blocking connection: Redis runs a connection's commands in order, so it runs
 * moveToActive the moment the marker unblocks the wait, and both replies come back together.
 *
 * Nothing else changes: the job is locked by that moveToActive with the prefetch's token, which the
 * job then carries (BullMQ processes, renews and finishes a job with `job.token`); a wait that ends
 * by timeout is followed by the same moveToActive BullMQ would send then. A prefetch whose reply is
 * lost (the blocking connection reset, or closed on drain) is the case of a moveToActive whose reply
 * is lost in BullMQ itself: the job, if it was taken, stalls and is put back (docs/queue.md, Faults).
 * The script's timestamp is the send time, so the job's `processedOn` is set again when it starts.
 * Without a Redis backend (another BullMQ backend), the worker fetches as BullMQ does.
 */
export class PipelinedWorker<D, R> extends Worker<D, R> {
  readonly #redis: Redis & WithSetProcessedOn;
  readonly #keepsStartTime: (data: D) => boolean;
  #prefetch: Prefetch | undefined;
  #sequence = 0;

  /**
   * `redis`: a request connection of the worker (the start-time fix goes over it). `keepsStartTime`:
   * whether a job's record outlives it with its start time (a submission's `started_at`); a job
   * whose record nobody reads (a synchronous call's, removed when it ends) skips the fix, and with
   * it a Redis command between taking the job and running it.
   */
  constructor(name: string, processor: Processor<D, R>, opts: WorkerOptions, redis: Redis, keepsStartTime: (data: D) => boolean = () => true) {
    super(name, processor, opts);
    this.#keepsStartTime = keepsStartTime;
    redis.defineCommand('rcSetProcessedOn', { numberOfKeys: 1, lua: SET_PROCESSED_ON });
    this.#redis = redis as Redis & WithSetProcessedOn;
    const backend = this.backend as unknown;
    if (!(backend instanceof RedisQueueBackend) || !backend.blockingConnection) return;
    const blocking = backend.blockingConnection;
    // A backend of this queue whose only connection is the blocking one: its moveToActive goes there.
    const sibling = new RedisQueueBackend(blocking, this.name, this.keys, (type) => this.toKey(type), this.opts, undefined, false);
    backend.waitForJob = async (blockTimeout: number) => {
      // A prefetch not consumed (its wait failed): hand it over before waiting again.
      if (this.#prefetch) return { member: '0', score: 0 };
      const client = await blocking.client;
      const waited = client.bzpopmin(this.keys.marker!, blockTimeout);
      waited.catch(() => undefined);
      const token = `${this.id}:p${this.#sequence++}`;
      const reply = sibling.moveToActive(token, this.opts.name);
      reply.catch(() => undefined);
      this.#prefetch = { token, reply };
      // As BullMQ's own wait: a blocking command that outlives its timeout is abandoned (ioredis may
      // hang on one after a connection reset), the connection reset.
      const result = await within(blockTimeout * 1000 + 1000, waited);
      if (result === STUCK) {
        // A disconnect between reconnects never reports its end: bounded too.
        if (!this.closing) await within(2000, blocking.disconnect(true).then(() => blocking.reconnect())).catch(() => undefined);
        return null;
      }
      const [, member, score] = (result ?? []) as [string?, string?, string?];
      return member ? { member, score: Number.parseInt(score ?? '0', 10) } : null;
    };
  }

  protected override async moveToActive(token: string, name?: string): Promise<Job<D, R>> {
    const prefetch = this.#prefetch;
    this.#prefetch = undefined;
    if (!prefetch) return super.moveToActive(token, name);
    let raw: unknown[] | typeof STUCK;
    try {
      // It comes with the wait's own reply; one that hangs is a lost reply too.
      raw = await within(PREFETCH_REPLY_MS, prefetch.reply);
    } catch {
      raw = STUCK;
    }
    // Its connection went away before the reply: fetch as BullMQ does (the reply, if Redis ran it, is the lost-reply case).
    if (raw === STUCK) return super.moveToActive(token, name);
    const [jobData, id, rateLimitDelay, delayUntil] = raw as [Parameters<Worker<D, R>['nextJobFromJobData']>[0], string | undefined, number, number];
    // As BullMQ's moveToActive does with the reply (rate limits and delayed jobs: none in exec queues).
    (this as unknown as { updateDelays?(limit: number, until: number): void }).updateDelays?.(rateLimitDelay, delayUntil);
    const job = await this.nextJobFromJobData(jobData, id, prefetch.token);
    if (job?.id !== undefined) {
      job.processedOn = Date.now();
      if (this.#keepsStartTime(job.data)) void this.#redis.rcSetProcessedOn(this.toKey(job.id), job.processedOn).catch(() => undefined);
    }
    return job;
  }
}
