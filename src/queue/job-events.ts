import { QueueEvents, type ConnectionOptions } from 'bullmq';
import type { Redis, RedisOptions } from 'ioredis';
import type { QueueKeys } from './queue-keys.js';
import type { ExecProgress } from './job-data.js';

/** How a job ended, as its queue's events stream told. */
export type JobOutcome = { state: 'completed'; value: unknown } | { state: 'failed'; reason: string } | { state: 'removed' };

interface Waiter {
  resolve(outcome: JobOutcome): void;
  onActive?(): void;
  onProgress?(progress: ExecProgress): void;
}

/**
 * Finishing (and streaming) notifications of jobs, from BullMQ's QueueEvents: one per queue, each
 * dispatching to the waiters of its jobs by id. A waiter is registered before its job is added, and
 * each QueueEvents reads its stream from the id that was last when it was created, so no event is
 * missed and no per-job check (`isFinished`) is needed on the hot path. After a Redis restart
 * QueueEvents goes on from the last id it read.
 */
export class JobEvents {
  readonly #connection: RedisOptions;
  readonly #redis: Redis;
  readonly #keys: QueueKeys;
  readonly #events = new Map<string, Promise<QueueEvents>>();
  readonly #waiters = new Map<string, Waiter>();

  constructor(connection: RedisOptions, redis: Redis, keys: QueueKeys) {
    this.#connection = connection;
    this.#redis = redis;
    this.#keys = keys;
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
    const waiter = (jobId: string): Waiter | undefined => this.#waiters.get(`${queue}\n${jobId}`);
    const finish = (jobId: string, outcome: JobOutcome): void => {
      const found = waiter(jobId);
      if (!found) return;
      this.#waiters.delete(`${queue}\n${jobId}`);
      found.resolve(outcome);
    };
    events.on('completed', ({ jobId, returnvalue }) => finish(jobId, { state: 'completed', value: returnvalue }));
    events.on('failed', ({ jobId, failedReason }) => finish(jobId, { state: 'failed', reason: failedReason }));
    events.on('removed', ({ jobId }) => finish(jobId, { state: 'removed' }));
    events.on('active', ({ jobId }) => waiter(jobId)?.onActive?.());
    events.on('progress', ({ jobId, data }) => waiter(jobId)?.onProgress?.(data as ExecProgress));
    await events.waitUntilReady();
    return events;
  }

  /** Waits for a job's end; call before adding the job (after ready(queue)). `cancel` drops the waiter. */
  wait(queue: string, jobId: string, handlers: Omit<Waiter, 'resolve'> = {}): { outcome: Promise<JobOutcome>; cancel(): void } {
    const key = `${queue}\n${jobId}`;
    const outcome = new Promise<JobOutcome>((resolve) => this.#waiters.set(key, { resolve, ...handlers }));
    return { outcome, cancel: () => void this.#waiters.delete(key) };
  }

  async close(): Promise<void> {
    const all = [...this.#events.values()];
    this.#events.clear();
    await Promise.all(all.map((events) => events.then((e) => e.close()).catch(() => undefined)));
  }
}
