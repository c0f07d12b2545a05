import { randomUUID } from 'node:crypto';
import { QueueEvents, type ConnectionOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { directReplyOf } from './direct-reply.js';
import type { QueueKeys } from './queue-keys.js';
import type { ExecProgress } from './job-data.js';

const NONE: ReadonlySet<Waiter> = new Set();

/** How a job ended, as its queue's events stream told. */
export type JobOutcome = { state: 'completed'; value: unknown } | { state: 'failed'; reason: string } | { state: 'removed' };

interface Waiter {
  resolve(outcome: JobOutcome): void;
  onActive?(): void;
  onProgress?(progress: ExecProgress): void;
  /** Wants each event of its queue as it comes (counted in JobEvents' #eager until it is resolved or cancelled). */
  eager: boolean;
}

/** A waiter's handlers; `eager` defaults to whether it has onActive or onProgress. */
export type WaitOptions = Omit<Waiter, 'resolve' | 'eager'> & { eager?: boolean };

/**
 * How long a queue's events stream rests between reads while none of its waiters is eager: its
 * synchronous jobs are answered by direct replies, and the stream is only their fallback (a lost
 * pub/sub message, a job failed by the stalled-job check, a cancelled one), which this delays by at
 * most this much. A read after the rest takes every event since the last one in one reply.
 */
export const LAZY_READ_MS = 100;

/** A queue's reader between reads: resting, until its timer or an eager waiter wakes it. */
interface Rest {
  wake(): void;
}

/**
 * Finishing (and streaming) notifications of jobs, from BullMQ's QueueEvents: one per queue, each
 * dispatching to the waiters of its jobs by id. A waiter is registered before its job is added, and
 * each QueueEvents reads its stream from the id that was last when it was created, so no event is
 * missed and no per-job check (`isFinished`) is needed on the hot path. After a Redis restart
 * QueueEvents goes on from the last id it read.
 *
 * Synchronous jobs name this replica (`replyTo`): their worker publishes the outcome on its reply
 * channel first (direct-reply.ts). A waiter is resolved once, by whichever comes first; the events
 * stream's later `completed`/`failed` then finds no waiter.
 */
export class JobEvents {
  /** This replica's id in `replyTo` (its reply channel). */
  readonly replica = randomUUID();
  readonly #connection: RedisOptions;
  readonly #redis: Redis;
  readonly #keys: QueueKeys;
  readonly #events = new Map<string, Promise<QueueEvents>>();
  readonly #waiters = new Map<string, Set<Waiter>>();
  /** Per queue, its waiters that want each event as it comes (see LAZY_READ_MS). */
  readonly #eager = new Map<string, number>();
  readonly #resting = new Map<string, Rest>();
  #closed = false;
  #replies: Redis | undefined;

  constructor(connection: RedisOptions, redis: Redis, keys: QueueKeys) {
    this.#connection = connection;
    this.#redis = redis;
    this.#keys = keys;
  }

  /** Subscribes to this replica's reply channel (ioredis subscribes again after a reconnect). */
  async listen(): Promise<void> {
    const replies = new Redis(this.#connection);
    replies.on('error', () => undefined);
    replies.on('message', (_channel: string, message: string) => {
      const reply = directReplyOf(message);
      if (!reply) return;
      this.#finish(reply.queue, reply.jobId, reply.state === 'completed' ? { state: 'completed', value: reply.value } : { state: 'failed', reason: reply.reason! });
    });
    this.#replies = replies;
    await replies.subscribe(this.#keys.reply(this.replica));
  }

  /** Resolves a job's waiters, once: a second report of the same end (events after a direct reply) finds none. */
  #finish(queue: string, jobId: string, outcome: JobOutcome): void {
    const key = `${queue}\n${jobId}`;
    const found = this.#waiters.get(key);
    if (!found) return;
    this.#waiters.delete(key);
    for (const waiter of found) {
      this.#forget(queue, waiter);
      waiter.resolve(outcome);
    }
  }

  #forget(queue: string, waiter: Waiter): void {
    if (!waiter.eager) return;
    waiter.eager = false;
    const left = (this.#eager.get(queue) ?? 1) - 1;
    if (left > 0) this.#eager.set(queue, left);
    else this.#eager.delete(queue);
  }

  /**
   * Before each read of `queue`'s stream: while no waiter of it is eager, rest LAZY_READ_MS (or until
   * one is), so that synchronous jobs, answered over pub/sub, do not wake this process for each of
   * their `added`, `active` and `completed` events.
   */
  #rest(queue: string): Promise<void> {
    if (this.#closed || this.#eager.has(queue)) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => rest.wake(), LAZY_READ_MS);
      const rest: Rest = {
        wake: () => {
          clearTimeout(timer);
          if (this.#resting.get(queue) === rest) this.#resting.delete(queue);
          resolve();
        },
      };
      this.#resting.set(queue, rest);
    });
  }

  /** Makes sure `queue`'s events are being read (one Redis round trip, the first time only). */
  ready(queue: string): Promise<QueueEvents> {
    let events = this.#events.get(queue);
    if (!events) {
      events = this.#open(queue);
      this.#events.set(queue, events);
      events.catch(() => this.#events.delete(queue));
    }
    return events;
  }

  async #open(queue: string): Promise<QueueEvents> {
    const last = (await this.#redis.xrevrange(this.#keys.events(queue), '+', '-', 'COUNT', 1))[0]?.[0] ?? '0-0';
    const events = new QueueEvents(queue, { connection: this.#connection as ConnectionOptions, prefix: this.#keys.prefix, lastEventId: last, blockingTimeout: 5000 });
    events.on('error', () => undefined);
    // BullMQ's reader loop reads through its backend: each read waits for #rest first (its id stays
    // where the last read left it, so nothing is skipped). Constructed with autorun, the loop's first
    // read comes after an awaited call, so the wrapper is in place before it.
    const backend = (events as unknown as { backend: { readEvents(id: string, blockTimeout: number): Promise<unknown> } }).backend;
    const read = backend.readEvents.bind(backend);
    backend.readEvents = async (id, blockTimeout) => {
      await this.#rest(queue);
      return read(id, blockTimeout);
    };
    const waiters = (jobId: string): ReadonlySet<Waiter> => this.#waiters.get(`${queue}\n${jobId}`) ?? NONE;
    const finish = (jobId: string, outcome: JobOutcome): void => this.#finish(queue, jobId, outcome);
    events.on('completed', ({ jobId, returnvalue }) => finish(jobId, { state: 'completed', value: returnvalue }));
    events.on('failed', ({ jobId, failedReason }) => finish(jobId, { state: 'failed', reason: failedReason }));
    events.on('removed', ({ jobId }) => finish(jobId, { state: 'removed' }));
    events.on('active', ({ jobId }) => waiters(jobId).forEach((w) => w.onActive?.()));
    events.on('progress', ({ jobId, data }) => waiters(jobId).forEach((w) => w.onProgress?.(data as ExecProgress)));
    await events.waitUntilReady();
    return events;
  }

  /**
   * Waits for a job's end; call before adding the job (after ready(queue)). `cancel` drops the
   * waiter. A waiter that is not eager (a synchronous job answered by its direct reply) lets the
   * queue's stream be read lazily (LAZY_READ_MS).
   */
  wait(queue: string, jobId: string, options: WaitOptions = {}): { outcome: Promise<JobOutcome>; cancel(): void } {
    const key = `${queue}\n${jobId}`;
    const { eager = options.onActive !== undefined || options.onProgress !== undefined, ...handlers } = options;
    let waiter: Waiter | undefined;
    const outcome = new Promise<JobOutcome>((resolve) => {
      waiter = { resolve, ...handlers, eager };
      const set = this.#waiters.get(key) ?? new Set<Waiter>();
      set.add(waiter);
      this.#waiters.set(key, set);
    });
    if (eager) {
      this.#eager.set(queue, (this.#eager.get(queue) ?? 0) + 1);
      this.#resting.get(queue)?.wake();
    }
    return {
      outcome,
      cancel: () => {
        this.#forget(queue, waiter!);
        const set = this.#waiters.get(key);
        if (!set) return;
        set.delete(waiter!);
        if (set.size === 0) this.#waiters.delete(key);
      },
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const rest of [...this.#resting.values()]) rest.wake();
    const all = [...this.#events.values()];
    this.#events.clear();
    this.#replies?.disconnect();
    await Promise.all(all.map((events) => events.then(closeEvents).catch(() => undefined)));
  }
}

/** How long a QueueEvents may take to close, and then to disconnect, before the API goes on without it. */
const CLOSE_MS = 500;

/**
 * Closes a QueueEvents, waiting a moment at most: after a Redis restart its connection may be between
 * reconnects, and ioredis then never reports the end of a disconnect that BullMQ waits for (an
 * `api --queue` did not exit on SIGTERM). A reader has nothing to flush; the disconnect itself has
 * stopped the reconnecting, so nothing is left to keep the process alive.
 */
async function closeEvents(events: QueueEvents): Promise<void> {
  await bounded(events.close());
  await bounded(events.disconnect());
}

async function bounded(promise: Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise.catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, CLOSE_MS)))]);
  clearTimeout(timer);
}
