import { UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { CallbackRefusedError } from '../engine/submissions/callback-address.js';
import { deliverCallback, type CallbackLog } from '../engine/submissions/callback-delivery.js';
import type { CallbackSettings } from '../engine/submissions/submission-settings.js';
import type { SubmissionRecord, Submissions } from '../engine/submissions/types.js';

/** The BullMQ queue of callback deliveries (the parent jobs of submission flows). */
export const CALLBACKS_QUEUE = 'callbacks';

/**
 * A callback job's data. RedisSubmissions.submit adds it as the parent of the submission's exec job
 * (`ignoreDependencyOnFailure: true` on the child), so it runs once the execution ended either way.
 */
export interface CallbackJobData {
  token: string;
  url: string;
  /** The submission's owner (apiKeyId): the record is read as that owner. */
  owner?: string;
}

/**
 * The parent job's retry policy: `callback_attempts` tries, exponential backoff from 1 s — the same
 * schedule as the in-process mode (callbackBackoffMs). RedisSubmissions passes these when it adds the flow.
 */
export function callbackJobOptions(settings: Pick<CallbackSettings, 'attempts' | 'backoffMs'>): { attempts: number; backoff: { type: 'exponential'; delay: number } } {
  return { attempts: settings.attempts, backoff: { type: 'exponential', delay: settings.backoffMs } };
}

export interface CallbackWorkerOptions {
  /** BullMQ's blocking connection options (retry for ever: the worker waits for Redis to return). */
  connection: ConnectionOptions;
  prefix: string;
  settings: CallbackSettings;
  /** Where records are read: the queue mode's Submissions (its get() reads the exec job's result). */
  records: Pick<Submissions, 'get'>;
  /** Deliveries at once per API replica. */
  concurrency?: number;
  log?: CallbackLog;
}

/**
 * A delivery's BullMQ lock, renewed every half of it while the delivery runs (a delivery is bounded
 * by `timeout_ms` anyway). A job whose replica was lost mid-delivery — or whose fetch reply a Redis
 * restart swallowed, leaving it active with nobody working on it — waits for the lock to lapse:
 * BullMQ's default of 30 s (and a stalled check every 30 s) made such a callback up to a minute late.
 */
export const CALLBACK_LOCK_MS = 10_000;
/** How often each replica looks for deliveries whose lock lapsed: made again within CALLBACK_LOCK_MS + this. */
export const CALLBACK_STALLED_INTERVAL_MS = 2_500;

/** A record still waiting for its execution is not final: the delivery is retried later. */
const finished = (record: SubmissionRecord): boolean => record.status === 'done' || record.status === 'failed';

/**
 * The consumer of `callbacks`, run by every API replica in queue mode: for each parent job whose
 * exec child ended, reads the submission's record (the body a GET would return) and delivers it
 * with the shared delivery code (allowlist, DNS checked at delivery, signature). A failed attempt
 * throws, and BullMQ retries with the job's backoff; a refusal no retry can change (a forbidden
 * address, a host off the allowlist) ends it at once. At least once: a replica lost mid-delivery
 * leaves the job to BullMQ's stalled-job recovery (within CALLBACK_LOCK_MS + CALLBACK_STALLED_INTERVAL_MS),
 * so receivers dedupe by token.
 */
export function startCallbackWorker(options: CallbackWorkerOptions): Worker<CallbackJobData, void> {
  const worker = new Worker<CallbackJobData, void>(
    CALLBACKS_QUEUE,
    async (job: Job<CallbackJobData>) => {
      const { token, url, owner } = job.data;
      const record = await options.records.get(token, owner !== undefined ? { owner } : {});
      // Expired or removed: nothing is left to deliver.
      if (!record) return;
      if (!finished(record)) throw new Error(`submission ${token} has not finished yet`);
      try {
        await deliverCallback(record, url, options.settings);
      } catch (err) {
        const last = err instanceof CallbackRefusedError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
        options.log?.warn({ token, attempt: job.attemptsMade + 1, error: (err as Error).message }, last ? 'callback delivery given up' : 'callback delivery failed; retrying');
        if (err instanceof CallbackRefusedError) throw new UnrecoverableError(err.message);
        throw err;
      }
    },
    {
      connection: options.connection,
      prefix: options.prefix,
      concurrency: options.concurrency ?? 8,
      autorun: true,
      lockDuration: CALLBACK_LOCK_MS,
      stalledInterval: CALLBACK_STALLED_INTERVAL_MS,
    },
  );
  // Redis going away is reported by the connection's own retries; a worker error must not crash the API.
  worker.on('error', () => undefined);
  return worker;
}
