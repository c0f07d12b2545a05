import rateLimit from '@fastify/rate-limit';
import type { FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { ErrorCodes, RunnerError, isRunnerError } from '../errors.js';
import type { Api } from './types.js';

/**
 * Requests per minute per API key (per client address without keys). In queue mode the counters live
 * in Redis (@fastify/rate-limit's `redis` store: one INCR+PEXPIRE script per request), so every API
 * replica counts against the same budget; otherwise in this process.
 */
export class RateLimit {
  /** Requests whose counter is being incremented: an error thrown meanwhile is the store's. */
  readonly #counting = new WeakSet<FastifyRequest>();
  readonly #redis: Redis | undefined;
  readonly #unavailable: (cause: unknown) => RunnerError;

  /** `redis`: the counters' store (queue mode); `unavailable`: the error while it cannot be reached. */
  constructor(shared?: { redis: Redis; unavailable: (cause: unknown) => RunnerError }) {
    this.#redis = shared?.redis;
    this.#unavailable = shared?.unavailable ?? ((cause) => new RunnerError(ErrorCodes.INTERNAL, 'rate limit failed', { cause }));
  }

  async register(app: Api, perMinute: number, prefix: string): Promise<void> {
    await app.register(rateLimit, {
      max: perMinute,
      timeWindow: 60_000,
      ...(this.#redis ? { redis: this.#redis, nameSpace: `${prefix}:rate-limit:` } : {}),
      // A route-level hook: it runs after the key check of its route's context has set apiKeyId.
      keyGenerator: (request) => {
        // Fails closed, and at once when the connection is known to be down.
        if (this.#redis && this.#redis.status !== 'ready') throw this.#unavailable(new Error('the rate-limit connection to Redis is down'));
        this.#counting.add(request);
        return request.apiKeyId ?? request.ip;
      },
      // Called once the store answered, whichever way.
      onExceeding: (request) => this.#counting.delete(request),
      onExceeded: (request) => this.#counting.delete(request),
      errorResponseBuilder: (_request, context) =>
        Object.assign(new RunnerError(ErrorCodes.RATE_LIMITED, `API quota exceeded: ${context.max} requests per minute; retry in ${Math.ceil(context.ttl / 1000)} s`), {
          statusCode: 429,
        }),
    });
  }

  /**
   * The error a request should answer with: a failure of the Redis store while counting (a command
   * that timed out or lost its connection) is a 503 with Retry-After, never a 500 and never a pass.
   */
  explain(request: FastifyRequest, err: unknown): unknown {
    if (!this.#counting.has(request) || isRunnerError(err)) return err;
    this.#counting.delete(request);
    return this.#unavailable(err);
  }
}
