import { Redis } from 'ioredis';
import { queueUnavailable, requestConnectionOptions } from '../queue/redis-connections.js';
import { redisOptionsOf } from '../queue/redis-url.js';
import type { KeySource } from './auth.js';
import type { ApiConfig } from './config.js';
import { RateLimit } from './rate-limit.js';
import { SharedKeys } from './shared-keys.js';
import type { Api } from './types.js';

/**
 * Queue mode's access control, shared by every API replica through Redis: the keys of the
 * configuration plus those of `infra.operator keys add` (shared-keys.ts), and one rate-limit
 * counter per key in Redis. Both fail closed with RC_ERR_QUEUE_UNAVAILABLE (503, Retry-After) while
 * Redis cannot be reached, and recover by themselves when it is back.
 */
export async function openSharedAccess(app: Api, config: ApiConfig): Promise<{ keys: KeySource; rateLimit: RateLimit }> {
  const base = redisOptionsOf(config.queue);
  const redis = new Redis(requestConnectionOptions(base));
  redis.on('error', (err: Error) => app.log.debug({ err: err.message }, 'API keys and rate limits: Redis error'));
  // Redis away at start: ioredis goes on reconnecting, and requests answer 503 until it is back.
  redis.connect().catch(() => undefined);
  const keys = new SharedKeys(redis, base, config.queuePrefix, config.apiKeys, app.log);
  app.addHook('onClose', async () => {
    await keys.close();
    redis.disconnect();
  });
  await keys.ready(2_000);
  return { keys, rateLimit: new RateLimit({ redis, unavailable: queueUnavailable }) };
}
