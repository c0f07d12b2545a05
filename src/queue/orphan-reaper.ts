import { UnrecoverableError, Worker, type ConnectionOptions } from 'bullmq';
import type { RedisOptions } from 'ioredis';
import { ErrorCodes } from '../errors.js';
import type { Fleet } from './fleet.js';
import type { QueueKeys } from './queue-keys.js';
import type { ExecJobData } from './job-data.js';

/**
 * Jobs never wait for ever in a queue nobody serves: when every worker of a profile has been gone
 * for `orphanMs`, the API runs a BullMQ Worker of its own on that queue that fails each job with
 * RC_ERR_NO_WORKER (a BullMQ failure like any other: every waiter, in any API replica, sees it).
 * It also runs the stalled check there, so a job whose worker was killed does not stay `active`.
 * A worker of that profile coming back stops it.
 */
export class OrphanReaper {
  readonly #fleet: Fleet;
  readonly #connection: RedisOptions;
  readonly #keys: QueueKeys;
  readonly #orphanMs: number;
  /** Profile queue → when it was first seen without a live worker. */
  readonly #since = new Map<string, number>();
  readonly #reapers = new Map<string, Worker>();
  #timer: NodeJS.Timeout | undefined;

  constructor(fleet: Fleet, connection: RedisOptions, keys: QueueKeys, orphanMs: number) {
    this.#fleet = fleet;
    this.#connection = connection;
    this.#keys = keys;
    this.#orphanMs = orphanMs;
  }

  start(): void {
    this.#timer = setInterval(() => void this.check(), Math.min(1000, this.#orphanMs / 4));
    this.#timer.unref();
  }

  /** One pass: start reapers on queues orphaned long enough, stop those whose workers came back. */
  async check(): Promise<void> {
    if (this.#fleet.unavailable) return;
    const now = Date.now();
    for (const queue of this.#fleet.profiles.keys()) {
      if (this.#fleet.live.has(queue)) {
        this.#since.delete(queue);
        const reaper = this.#reapers.get(queue);
        if (reaper) {
          this.#reapers.delete(queue);
          await reaper.close().catch(() => undefined);
        }
        continue;
      }
      const since = this.#since.get(queue) ?? now;
      this.#since.set(queue, since);
      if (now - since >= this.#orphanMs && !this.#reapers.has(queue)) this.#reapers.set(queue, this.#reaper(queue));
    }
  }

  #reaper(queue: string): Worker {
    const reaper = new Worker<ExecJobData>(
      queue,
      async (job) => {
        throw new UnrecoverableError(`${ErrorCodes.NO_WORKER} the workers of queue ${queue} have all been gone for over ${this.#orphanMs} ms: ${this.#fleet.noWorker(job.data.request.language, job.data.backend).message}`);
      },
      { connection: this.#connection as ConnectionOptions, prefix: this.#keys.prefix, name: 'orphan-reaper', concurrency: 16, maxStalledCount: 1, stalledInterval: 1000, lockDuration: 5000 },
    );
    reaper.on('error', () => undefined);
    return reaper;
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    const all = [...this.#reapers.values()];
    this.#reapers.clear();
    await Promise.all(all.map((reaper) => reaper.close().catch(() => undefined)));
  }
}
