import type { Redis } from 'ioredis';
import type { QueueKeys } from './queue-keys.js';
import type { DirectReply } from './job-data.js';

/**
 * Publishes `ARGV[3]` on channel `ARGV[2]` only while the job's lock (`KEYS[1]`) is still held with
 * this worker's token (`ARGV[1]`): a worker that lost its job (its lock expired, another worker runs
 * it now) never reports it, exactly as BullMQ refuses its late result. 1 = published, 0 = not ours.
 */
const PUBLISH_IF_LOCKED = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('PUBLISH', ARGV[2], ARGV[3]) return 1 end return 0`;

interface WithPublishIfLocked {
  rcPublishIfLocked(lockKey: string, token: string, channel: string, message: string): Promise<number>;
}

/**
 * A synchronous job's outcome, sent straight to the API replica waiting for it (pub/sub) the moment
 * it exists, ahead of BullMQ's own record of it (moveToFinished, whose `completed`/`failed` event the
 * API reads too and which stays the record). The API takes whichever arrives first, once; pub/sub
 * delivers at most once, so a message lost (the API's subscriber reconnecting) leaves the events
 * stream to tell. Saves the finishing script's time and the events stream's read on the way back.
 */
export class DirectReplies {
  readonly #redis: Redis & WithPublishIfLocked;
  readonly #keys: QueueKeys;

  constructor(redis: Redis, keys: QueueKeys) {
    redis.defineCommand('rcPublishIfLocked', { numberOfKeys: 1, lua: PUBLISH_IF_LOCKED });
    this.#redis = redis as Redis & WithPublishIfLocked;
    this.#keys = keys;
  }

  /** Sends without waiting: the caller hands the job to BullMQ right after (its finish runs behind this). */
  send(replyTo: string, token: string, reply: DirectReply): void {
    void this.#redis.rcPublishIfLocked(this.#keys.lock(reply.queue, reply.jobId), token, this.#keys.reply(replyTo), JSON.stringify(reply)).catch(() => undefined);
  }
}

/** A message on an API's reply channel, or undefined when it is not one. */
export function directReplyOf(message: string): DirectReply | undefined {
  try {
    const reply = JSON.parse(message) as DirectReply;
    if (typeof reply?.queue !== 'string' || typeof reply.jobId !== 'string') return undefined;
    if (reply.state === 'completed' || (reply.state === 'failed' && typeof reply.reason === 'string')) return reply;
  } catch {
    // not one
  }
  return undefined;
}
