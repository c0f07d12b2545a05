import { Redis, type RedisOptions } from 'ioredis';
import type { FastifyBaseLogger } from 'fastify';
import type { KeySource } from './auth.js';
import { keyDigest, RedisKeyStore, type KeyChange } from './redis-keys.js';
import { blockingConnectionOptions, queueUnavailable } from '../queue/redis-connections.js';

/** A full reload every this often, besides the one after each (re)connect: a missed message cannot last. */
const REFRESH_MS = 5_000;

/**
 * The API keys one API replica accepts in queue mode: the keys of its own configuration and those kept
 * in Redis (`infra.operator keys add`), the latter cached here as digests and kept current by the
 * `<prefix>:api-keys:changed` channel (each change is applied as it arrives, then the set is reloaded),
 * by a reload after every (re)connect and every REFRESH_MS.
 *
 * Fails closed: while the subscription is down or the last reload failed, the cached set may miss a
 * removal, so any answer that depends on it throws RC_ERR_QUEUE_UNAVAILABLE (503) instead of guessing.
 * A key of the configuration needs no Redis and is accepted throughout.
 */
export class SharedKeys implements KeySource {
  readonly mayHaveKeys = true;
  readonly #configDigests: Set<string>;
  readonly #store: RedisKeyStore;
  readonly #subscriber: Redis;
  readonly #log: FastifyBaseLogger;
  readonly #timer: NodeJS.Timeout;
  #digests = new Set<string>();
  #fresh = false;
  /** The channel is subscribed on the current connection: changes are heard. */
  #subscribed = false;
  /** Bumped by every change heard: a reload that started before one is stale and is done again. */
  #generation = 0;
  #closed = false;

  constructor(redis: Redis, connection: RedisOptions, prefix: string, configKeys: readonly string[], log: FastifyBaseLogger) {
    this.#log = log;
    this.#store = new RedisKeyStore(redis, prefix);
    this.#configDigests = new Set(configKeys.map(keyDigest));
    // Subscribing is explicit on every connect (not ioredis's autoResubscribe), so that the reload
    // below starts only once changes are heard again.
    this.#subscriber = new Redis({ ...blockingConnectionOptions(connection), autoResubscribe: false });
    this.#subscriber.on('error', (err: Error) => this.#log.debug({ err: err.message }, 'API key subscription: Redis error'));
    this.#subscriber.on('close', () => {
      if (this.#fresh) this.#log.warn('API key subscription lost: keys kept in Redis answer 503 until it is back');
      this.#fresh = false;
      this.#subscribed = false;
    });
    this.#subscriber.on('ready', () => void this.#subscribeAndReload());
    this.#subscriber.on('message', (_channel: string, message: string) => this.#apply(message));
    // The command connection (re)connecting after the subscription is up is the other moment to reload.
    redis.on('ready', () => void this.#reload());
    this.#timer = setInterval(() => void this.#reload(), REFRESH_MS).unref();
  }

  /** Resolves once the set is loaded, or after `timeoutMs` (Redis down at start: requests get 503s until it is up). */
  async ready(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.#fresh && !this.#closed && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  }

  anyKeys(): boolean {
    if (this.#configDigests.size > 0) return true;
    this.#assertFresh();
    return this.#digests.size > 0;
  }

  accepts(digest: string): boolean {
    if (this.#configDigests.has(digest)) return true;
    this.#assertFresh();
    // A lookup by the SHA-256 of what was presented: its timing says nothing about any stored key.
    return this.#digests.has(digest);
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    this.#subscriber.disconnect();
  }

  #assertFresh(): void {
    if (!this.#fresh) throw queueUnavailable(new Error('the API key set kept in Redis is not current'));
  }

  async #subscribeAndReload(): Promise<void> {
    try {
      await this.#subscriber.subscribe(this.#store.channel);
      this.#subscribed = true;
    } catch (err) {
      this.#log.debug({ err: (err as Error).message }, 'API key subscription failed');
      return;
    }
    await this.#reload();
  }

  #apply(message: string): void {
    let change: KeyChange;
    try {
      change = JSON.parse(message) as KeyChange;
    } catch {
      return;
    }
    this.#generation++;
    if (change.op === 'rm') this.#digests.delete(change.digest);
    else if (change.op === 'add') this.#digests.add(change.digest);
    void this.#reload();
  }

  async #reload(): Promise<void> {
    if (this.#closed || !this.#subscribed) return;
    for (;;) {
      const generation = this.#generation;
      try {
        const digests = await this.#store.digests();
        if (generation !== this.#generation) continue;
        this.#digests = digests;
        if (!this.#fresh) this.#log.info({ keys: digests.size }, 'API keys loaded from Redis');
        this.#fresh = this.#subscribed;
      } catch (err) {
        if (this.#fresh) this.#log.warn({ err: (err as Error).message }, 'API keys could not be reloaded: keys kept in Redis answer 503 until they are');
        this.#fresh = false;
      }
      return;
    }
  }
}
