import { ErrorCodes, RunnerError } from '../../errors.js';
import type { SubmissionRecord } from './types.js';

/** One submission as the in-process store holds it. */
export interface StoredSubmission {
  record: SubmissionRecord;
  owner: string | undefined;
  /** Where its end is POSTed. */
  callbackUrl: string | undefined;
  /** Aborts its execution (DELETE, shutdown). */
  controller: AbortController;
  /** Set when it finished: it is gone after this time (ms since the epoch). */
  expiresAt?: number;
  /** Resolves when it finished. */
  finished: Promise<void>;
  markFinished: () => void;
}

const finishedState = (record: SubmissionRecord): boolean => record.status === 'done' || record.status === 'failed';

/**
 * The in-process submission records: kept `ttlMs` after they finished, at most `maxStored` at once
 * (the oldest finished make room first; when every record is still unfinished there is no room).
 * An expired record is never returned, and a sweep drops them so that memory follows the TTL.
 */
export class SubmissionStore {
  readonly #entries = new Map<string, StoredSubmission>();
  readonly #ttlMs: number;
  readonly #maxStored: number;
  #unfinished = 0;
  readonly #sweep: NodeJS.Timeout;

  constructor(ttlMs: number, maxStored: number) {
    this.#ttlMs = ttlMs;
    this.#maxStored = maxStored;
    this.#sweep = setInterval(() => this.#dropExpired(), Math.max(100, Math.min(ttlMs, 60_000)));
    this.#sweep.unref();
  }

  /** Throws QUEUE_FULL unless `count` more records fit (finished ones can make room). */
  ensureRoom(count: number): void {
    if (this.#unfinished + count > this.#maxStored) {
      throw new RunnerError(ErrorCodes.QUEUE_FULL, `no room for ${count} more submissions: ${this.#unfinished} are still queued or running (submission_max_stored ${this.#maxStored})`);
    }
  }

  add(record: SubmissionRecord, owner: string | undefined, callbackUrl: string | undefined): StoredSubmission {
    if (this.#entries.size >= this.#maxStored) this.#dropExpired();
    // Map order is insertion order: the first finished entries are the oldest.
    for (const [token, entry] of this.#entries) {
      if (this.#entries.size < this.#maxStored) break;
      if (finishedState(entry.record)) this.#entries.delete(token);
    }
    let markFinished!: () => void;
    const finished = new Promise<void>((resolve) => (markFinished = resolve));
    const entry: StoredSubmission = { record, owner, callbackUrl, controller: new AbortController(), finished, markFinished };
    this.#entries.set(record.token, entry);
    this.#unfinished++;
    return entry;
  }

  /** The entry of `token` when `owner` owns it and it has not expired. */
  find(token: string, owner: string | undefined): StoredSubmission | undefined {
    const entry = this.#entries.get(token);
    if (!entry || entry.owner !== owner) return undefined;
    if (entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
      this.#entries.delete(token);
      return undefined;
    }
    return entry;
  }

  /** Ends an entry once: its final record, its expiry, its waiters woken. False when it had ended already. */
  finish(entry: StoredSubmission, record: SubmissionRecord): boolean {
    if (finishedState(entry.record)) return false;
    entry.record = record;
    entry.expiresAt = Date.now() + this.#ttlMs;
    this.#unfinished--;
    entry.markFinished();
    return true;
  }

  #dropExpired(): void {
    const now = Date.now();
    for (const [token, entry] of this.#entries) if (entry.expiresAt !== undefined && entry.expiresAt <= now) this.#entries.delete(token);
  }

  close(): void {
    clearInterval(this.#sweep);
  }
}
