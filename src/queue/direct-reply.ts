import type { Redis } from 'ioredis';
import type { QueueKeys } from './queue-keys.js';
import type { DirectReply } from './job-data.js';

/**
 * Publishes `ARGV[3]` on channel `ARGV[2]` only while the job's lock (`KEYS[1]`) is still held with
 * this worker's token (`ARGV[1]`): a worker that lost its job (its lock expired, another worker runs
 * it now) never reports it, exactly as BullMQ refuses its late result. 1 = published, 0 = not ours.
 */
const PUBLISH_IF_LOCKED = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('PUBLISH', ARGV[2], ARGV[3]) return 1 end return 0`;

/** The longest a worker waits for its publish before it hands the job to BullMQ anyway. */
const SEND_TIMEOUT_MS = 1000;

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

  /**
   * Publishes; resolves once Redis has (or when it cannot be reached: the events stream tells then).
   * The caller hands the job to BullMQ after this: Redis writes a published message out only once it
   * is done with the commands it has read, so a moveToFinished arriving with the publish would hold
   * the reply back by its own run.
   */
  async send(replyTo: string, token: string, reply: DirectReply): Promise<void> {
    const published = this.#redis.rcPublishIfLocked(this.#keys.lock(reply.queue, reply.jobId), token, this.#keys.reply(replyTo), JSON.stringify(reply)).catch(() => 0);
    // A Redis that stopped answering must not hold the job's finish (BullMQ retries that on its own).
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([published, new Promise((resolve) => (timer = setTimeout(resolve, SEND_TIMEOUT_MS)))]);
    clearTimeout(timer);
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
