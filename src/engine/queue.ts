import { ErrorCodes, RunnerError } from '../errors.js';

export interface QueueOptions {
  /** Executions running at once. */
  concurrency: number;
  /** Executions waiting for a slot; beyond this, `run` fails with RC_ERR_QUEUE_FULL. */
  maxQueued: number;
}

interface Waiting {
  start: () => void;
  reject: (err: Error) => void;
}

/**
 * Bounded concurrency with a bounded wait queue, in front of the engine. A waiting task whose
 * signal aborts (its client went away) leaves the queue without ever running. Used by the HTTP API
 * and, later, the queue worker.
 */
export class ExecutionQueue {
  readonly concurrency: number;
  readonly maxQueued: number;
  #running = 0;
  #waiting: Waiting[] = [];
  #closed = false;

  constructor(options: QueueOptions) {
    if (!Number.isSafeInteger(options.concurrency) || options.concurrency < 1) throw new RangeError('concurrency must be a positive integer');
    if (!Number.isSafeInteger(options.maxQueued) || options.maxQueued < 0) throw new RangeError('maxQueued must be a non-negative integer');
    this.concurrency = options.concurrency;
    this.maxQueued = options.maxQueued;
  }

  get running(): number {
    return this.#running;
  }

  /** True once close() was called. */
  get closed(): boolean {
    return this.#closed;
  }

  get queued(): number {
    return this.#waiting.length;
  }

  /** Whether `count` more tasks would be accepted right now (running or queued). */
  canAccept(count: number): boolean {
    const freeSlots = Math.max(0, this.concurrency - this.#running);
    return !this.#closed && count <= freeSlots + (this.maxQueued - this.#waiting.length);
  }

  /**
   * Runs `task` when a slot is free. Resolves with its value and the time it waited.
   * Rejects with QUEUE_FULL at once when the queue is full, SHUTTING_DOWN after close(),
   * CANCELLED when `signal` aborts while waiting.
   */
  async run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<{ value: T; waitedMs: number }> {
    const queuedAt = performance.now();
    await this.#acquire(signal);
    const waitedMs = performance.now() - queuedAt;
    try {
      return { value: await task(), waitedMs };
    } finally {
      this.#release();
    }
  }

  /** Stops accepting work and rejects everything still waiting; running tasks go on. */
  close(): void {
    this.#closed = true;
    for (const waiting of this.#waiting.splice(0)) waiting.reject(new RunnerError(ErrorCodes.SHUTTING_DOWN, 'server is shutting down'));
  }

  #acquire(signal?: AbortSignal): Promise<void> {
    if (this.#closed) return Promise.reject(new RunnerError(ErrorCodes.SHUTTING_DOWN, 'server is shutting down'));
    if (signal?.aborted) return Promise.reject(new RunnerError(ErrorCodes.CANCELLED, 'request cancelled before it ran'));
    if (this.#running < this.concurrency) {
      this.#running++;
      return Promise.resolve();
    }
    if (this.#waiting.length >= this.maxQueued) {
      return Promise.reject(new RunnerError(ErrorCodes.QUEUE_FULL, `all ${this.concurrency} execution slots are busy and ${this.maxQueued} requests are waiting`));
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.#waiting = this.#waiting.filter((w) => w !== waiting);
        reject(new RunnerError(ErrorCodes.CANCELLED, 'request cancelled before it ran'));
      };
      const waiting: Waiting = {
        start: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject: (err) => {
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push(waiting);
    });
  }

  #release(): void {
    const next = this.#waiting.shift();
    if (next) next.start(); // the slot passes straight to the next task
    else this.#running--;
  }
}
