import { Redis, type RedisOptions } from 'ioredis';
import { ErrorCodes, RunnerError } from '../errors.js';
import { describeRedis } from './redis-url.js';

/** Reconnect every 100 ms at first, then at most every second: Redis coming back is noticed within a second. */
const retryStrategy = (times: number): number => Math.min(times * 100, 1000);

/**
 * Options of the connections a request waits on (adding jobs, reading records): no offline queue
 * and one retry, so that with Redis down a call fails at once (RC_ERR_QUEUE_UNAVAILABLE) instead of
 * hanging, and a command timeout for a Redis that stopped answering without closing.
 */
export function requestConnectionOptions(base: RedisOptions): RedisOptions {
  return { ...base, enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 2000, retryStrategy, lazyConnect: true };
}

/** Options of BullMQ's blocking connections (Worker, QueueEvents): they wait, and retry for ever. */
export function blockingConnectionOptions(base: RedisOptions): RedisOptions {
  return { ...base, maxRetriesPerRequest: null, enableOfflineQueue: true, retryStrategy };
}

/** True when the error is Redis being unreachable (not a Redis reply error). */
export function isConnectionError(err: unknown): boolean {
  const message = (err as Error)?.message ?? '';
  const code = (err as { code?: string })?.code ?? '';
  return (
    /Stream isn't writeable|Connection is closed|Command timed out|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|max retries|Reached the max retries|enableOfflineQueue|Socket closed unexpectedly|aborted due to connection close/i.test(message) ||
    // A Redis that is back but still reading its append-only file answers LOADING (inside a MULTI,
    // the whole transaction comes back EXECABORT): transient, like a closed connection.
    /^(LOADING|BUSY|TRYAGAIN|MASTERDOWN)\b|EXECABORT/.test(message) ||
    ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH'].includes(code)
  );
}

/** A connection failure as the API reports it: 503 with Retry-After (http-errors.ts). */
export function queueUnavailable(err: unknown): RunnerError {
  return new RunnerError(ErrorCodes.QUEUE_UNAVAILABLE, 'the queue (Redis) cannot be reached right now; retry shortly', { cause: err });
}

/** Runs a Redis call of a request, turning a connection failure into RC_ERR_QUEUE_UNAVAILABLE. */
export async function orUnavailable<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (isConnectionError(err)) throw queueUnavailable(err);
    throw err;
  }
}

/**
 * Opens a request connection and checks Redis answers within `timeoutMs`: a start against a wrong
 * address fails naming it (never the password), instead of serving 503s for ever.
 */
export async function connectRequestRedis(base: RedisOptions, timeoutMs = 5000): Promise<Redis> {
  const redis = new Redis(requestConnectionOptions(base));
  // ioredis reports every failed reconnect as an 'error' event; without a listener Node would print each.
  redis.on('error', () => undefined);
  try {
    await withTimeout(redis.connect().then(() => redis.ping()), timeoutMs);
    return redis;
  } catch (err) {
    redis.disconnect();
    throw new RunnerError(ErrorCodes.CONFIG, `--queue: cannot reach Redis at ${describeRedis(base)}: ${(err as Error).message}`, {
      hint: 'start Redis, or fix the host, port and password in --queue / RUNNER_CODES_QUEUE',
    });
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
