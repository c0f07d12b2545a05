import { UnrecoverableError, Worker, type ConnectionOptions } from 'bullmq';
import type { Redis, RedisOptions } from 'ioredis';
import { ErrorCodes } from '../errors.js';
import type { Fleet } from './fleet.js';
import type { QueueKeys } from './queue-keys.js';
import type { ExecJobData } from './job-data.js';

/**
 * Jobs never wait for ever in a queue nobody serves: when every worker of a profile has been gone
 * for `orphanMs`, the API runs a BullMQ Worker of its own on that queue that fails each job with
 * RC_ERR_NO_WORKER (a BullMQ failure like any other: every waiter, in any API replica, sees it).
 * It also runs the stalled check there, so a job whose worker was killed does not stay `active`.
 * A worker of that profile coming back stops it. Once such a queue holds no job any more, its
 * profile is forgotten (removed from `rc:profiles`, the reaper stopped): a worker of it that comes
 * back later writes it again at its registration.
 */
/**
 * Removes profile `ARGV[1]` from the profiles hash (KEYS[1]) only if its queue holds no job (KEYS[3..5]
 * wait, active, paused lists; KEYS[6..8] prioritized, delayed, waiting-children sets), no submission
 * record finished since `ARGV[4]` (KEYS[9..10] completed, failed: GET finds records through the
 * profiles) and no live worker (KEYS[2], ids scored by expiry, records under `ARGV[3]<id>`) serves
 * it: checked and removed in one step, so a worker registering meanwhile is seen or writes it after.
 */
const FORGET_IF_STALE = `
for i = 3, 5 do if redis.call('LLEN', KEYS[i]) > 0 then return 0 end end
for i = 6, 8 do if redis.call('ZCARD', KEYS[i]) > 0 then return 0 end end
for i = 9, 10 do if #redis.call('ZRANGEBYSCORE', KEYS[i], ARGV[4], '+inf', 'LIMIT', 0, 1) > 0 then return 0 end end
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], ARGV[2], '+inf')) do
  local record = redis.call('GET', ARGV[3] .. id)
  if record and cjson.decode(record).queue == ARGV[1] then return 0 end
end
return redis.call('HDEL', KEYS[1], ARGV[1])`;

interface WithForgetIfStale {
  rcForgetIfStale(...keysAndArgs: string[]): Promise<number>;
}

export class OrphanReaper {
  readonly #fleet: Fleet;
  readonly #redis: Redis & WithForgetIfStale;
  readonly #connection: RedisOptions;
  readonly #keys: QueueKeys;
  readonly #orphanMs: number;
  /** How long finished submissions stay readable (their records keep the profile). */
  readonly #recordsMs: number;
  /** Profile queue → when it was first seen without a live worker. */
  readonly #since = new Map<string, number>();
  readonly #reapers = new Map<string, Worker>();
  #timer: NodeJS.Timeout | undefined;

  /** `redis`: the API's request connection (the profile check); `connection`: options of the reapers' own. */
  constructor(fleet: Fleet, redis: Redis, connection: RedisOptions, keys: QueueKeys, orphanMs: number, recordsMs: number) {
    this.#recordsMs = recordsMs;
    redis.defineCommand('rcForgetIfStale', { numberOfKeys: 10, lua: FORGET_IF_STALE });
    this.#redis = redis as Redis & WithForgetIfStale;
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
      if (now - since < this.#orphanMs) continue;
      const reaper = this.#reapers.get(queue);
      if (!reaper) this.#reapers.set(queue, this.#reaper(queue));
      else if (await this.#forgetIfStale(queue)) {
        this.#reapers.delete(queue);
        this.#since.delete(queue);
        await reaper.close().catch(() => undefined);
      }
    }
  }

  /** Removes an orphaned queue's profile once it holds no job and no live worker serves it; true if removed. */
  async #forgetIfStale(queue: string): Promise<boolean> {
    const key = (type: string): string => `${this.#keys.prefix}:${queue}:${type}`;
    const removed = await this.#redis
      .rcForgetIfStale(this.#keys.profiles, this.#keys.workers, key('wait'), key('active'), key('paused'), key('prioritized'), key('delayed'), key('waiting-children'), key('completed'), key('failed'), queue, String(Date.now()), this.#keys.worker(''), String(Date.now() - this.#recordsMs))
      .catch(() => 0);
    return removed === 1;
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
