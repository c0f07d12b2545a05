import { ExecutionQueue } from '../engine/queue.js';
import type { ExecuteRequest } from '../engine/request.js';
import type { ExecutionResult } from '../engine/result.js';
import type { EngineService, ExecuteOptions } from './engine-service.js';
import { ApiMetrics } from './metrics.js';

/**
 * The engine behind the API: bounded concurrency and queue, metrics, and the set of in-flight
 * executions so that shutdown can cancel them.
 */
export class Executor {
  readonly engine: EngineService;
  readonly queue: ExecutionQueue;
  readonly metrics: ApiMetrics;
  readonly #inFlight = new Set<AbortController>();

  constructor(engine: EngineService, options: { concurrency: number; queueLimit: number }) {
    this.engine = engine;
    this.queue = new ExecutionQueue({ concurrency: options.concurrency, maxQueued: options.queueLimit });
    this.metrics = new ApiMetrics({ running: () => this.queue.running, queued: () => this.queue.queued });
  }

  /**
   * Queues and runs one execution. `signal` aborts it (the client went away): dropped if still
   * waiting, its sandbox destroyed if running. Throws RunnerError for bad input or a full queue.
   */
  async execute(request: ExecuteRequest, options: ExecuteOptions): Promise<ExecutionResult> {
    const controller = new AbortController();
    const onAbort = (): void => controller.abort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    this.#inFlight.add(controller);
    try {
      const { value, waitedMs } = await this.queue.run(
        () => this.engine.execute(request, { ...options, signal: controller.signal }),
        controller.signal,
      );
      this.metrics.observe(value, waitedMs);
      return value;
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
      this.#inFlight.delete(controller);
    }
  }

  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** Refuses new work; waiting executions fail with SHUTTING_DOWN. */
  stopAccepting(): void {
    this.queue.close();
  }

  /** Cancels everything still running (each sandbox is destroyed by the engine). */
  cancelAll(): void {
    for (const controller of this.#inFlight) controller.abort();
  }
}
