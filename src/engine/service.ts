import { InvalidRequestError } from '../errors.js';
import type { ImageStore } from '../images/store.js';
import type { Engine } from './engine.js';
import type { PoolStats } from './pool.js';
import type { StreamHandlers } from './exec-events.js';
import type { ExecInput } from './exec-input.js';
import { ExecutionQueue, type QueueOptions } from './queue.js';
import type { ExecuteRequest } from './request.js';
import type { ExecutionResult } from './result.js';

export interface ServiceExecuteOptions {
  /** The caller's trace id (the API's request id); a random UUID otherwise. */
  traceId?: string;
  /** Aborting drops a waiting execution or destroys the running one's sandbox. */
  signal?: AbortSignal;
  /** A backend the caller picked (`backend` in the body); it must be one the service offers. */
  backend?: string;
  /** Stream output and stage starts as the program runs; the result is the same as without. */
  stream?: StreamHandlers;
  /** Interactive: the run stage's stdin stays open for this input (and its signals). */
  input?: ExecInput;
}

/** How busy the service is: executions running (one sandbox each) and waiting for a slot. */
export interface ServiceLoad {
  running: number;
  queued: number;
}

/** Called once per execution that got a slot, with its result and the time it waited for the slot. */
export type ExecutedHook = (result: ExecutionResult, waitedMs: number) => void;

/**
 * What every edge (HTTP, CLI, later MCP and the queue worker) calls. ExecutionService is the one
 * implementation; the privilege-separated HTTP process holds a client of it over IPC
 * (api/engine-ipc.ts), so there is one queue whichever process answers HTTP.
 */
export interface Service {
  /** The default backend's name. */
  readonly backendName: string;
  /** The image store, read-only here (manifests: versions, sizes). */
  readonly images: ImageStore;
  /** True once stopAccepting() was called. */
  readonly closed: boolean;
  execute(request: ExecuteRequest, options: ServiceExecuteOptions): Promise<ExecutionResult>;
  /** Whether `count` more executions would be accepted right now (running or queued). */
  canAccept(count: number): Promise<boolean>;
  load(): Promise<ServiceLoad>;
  /** The default backend's warm pool, null without one. */
  poolStats(): Promise<PoolStats | null>;
  /** The metrics hook point: `hook` sees every execution that ran. */
  onExecuted(hook: ExecutedHook): void;
  /** Refuses new work; waiting executions fail with SHUTTING_DOWN. */
  stopAccepting(): void;
  /** Cancels everything still running (each sandbox is destroyed by its engine). */
  cancelAll(): void;
}

/** The service's engines: the default one first, then one per further backend a request may pick (each with its own pool, if any). */
export type Engines = ReadonlyMap<string, Engine>;

/**
 * The execution service: bounded concurrency and queue (backpressure), cancel, metrics hooks, and
 * the backend each request picks, each backend an Engine with its own warm pool per image.
 */
export class ExecutionService implements Service {
  readonly #engines: Engines;
  readonly #default: Engine;
  readonly #queue: ExecutionQueue;
  readonly #inFlight = new Set<AbortController>();
  /** Every execution still going (close() waits for them: a cancelled one is still tearing down). */
  readonly #going = new Set<Promise<unknown>>();
  readonly #hooks: ExecutedHook[] = [];

  constructor(engines: Engines, queue: QueueOptions) {
    const first = engines.values().next().value;
    if (!first) throw new RangeError('a service needs at least one engine');
    this.#engines = engines;
    this.#default = first;
    this.#queue = new ExecutionQueue(queue);
  }

  get backendName(): string {
    return this.#default.backend.name;
  }

  get images(): ImageStore {
    return this.#default.images;
  }

  get closed(): boolean {
    return this.#queue.closed;
  }

  get running(): number {
    return this.#queue.running;
  }

  get queued(): number {
    return this.#queue.queued;
  }

  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** The engine a request asked for, or an error naming the `backend` field and what is offered. */
  engineFor(backend: string | undefined): Engine {
    if (backend === undefined) return this.#default;
    const engine = this.#engines.get(backend);
    if (!engine) throw new InvalidRequestError('backend', `'${backend}' is not offered by this server (offered: ${[...this.#engines.keys()].join(', ')})`);
    return engine;
  }

  /**
   * Queues and runs one execution on the engine of its backend. Throws RunnerError for bad input,
   * an unknown backend or a full queue; failures after validation come back as a `failed` result.
   */
  async execute(request: ExecuteRequest, options: ServiceExecuteOptions): Promise<ExecutionResult> {
    return (await this.executeTimed(request, options)).value;
  }

  /** execute(), also telling how long the execution waited for a slot (for a client of the service in another process). */
  async executeTimed(request: ExecuteRequest, options: ServiceExecuteOptions): Promise<{ value: ExecutionResult; waitedMs: number }> {
    const going = this.#executeTimed(request, options);
    const tracked = going.catch(() => undefined).finally(() => this.#going.delete(tracked));
    this.#going.add(tracked);
    return going;
  }

  async #executeTimed(request: ExecuteRequest, options: ServiceExecuteOptions): Promise<{ value: ExecutionResult; waitedMs: number }> {
    const controller = new AbortController();
    const onAbort = (): void => controller.abort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    this.#inFlight.add(controller);
    try {
      const { value, waitedMs } = await this.#queue.run(
        () =>
          this.engineFor(options.backend).execute(request, {
            ...(options.traceId ? { traceId: options.traceId } : {}),
            ...(options.stream ? { stream: options.stream } : {}),
            ...(options.input ? { input: options.input } : {}),
            signal: controller.signal,
          }),
        controller.signal,
      );
      for (const hook of this.#hooks) hook(value, waitedMs);
      return { value, waitedMs };
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
      options.input?.detach();
      this.#inFlight.delete(controller);
    }
  }

  async canAccept(count: number): Promise<boolean> {
    return this.#queue.canAccept(count);
  }

  async load(): Promise<ServiceLoad> {
    return { running: this.running, queued: this.queued };
  }

  async poolStats(): Promise<PoolStats | null> {
    return this.#default.pool?.stats() ?? null;
  }

  onExecuted(hook: ExecutedHook): void {
    this.#hooks.push(hook);
  }

  stopAccepting(): void {
    this.#queue.close();
  }

  cancelAll(): void {
    for (const controller of this.#inFlight) controller.abort();
  }

  /** Stops, cancels what runs, destroys every pool and waits for every sandbox to be gone. */
  async close(): Promise<void> {
    this.stopAccepting();
    this.cancelAll();
    // A client that went away without waiting (a closed WebSocket) leaves its execution tearing down.
    await Promise.all(this.#going);
    await Promise.all([...this.#engines.values()].map((engine) => engine.close()));
  }
}
