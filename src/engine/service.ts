import { ErrorCodes, InvalidRequestError, RunnerError } from '../errors.js';
import type { ImageStore } from '../images/store.js';
import type { Engine } from './engine.js';
import type { PoolImageStats } from './pool.js';
import type { StreamHandlers } from './exec-events.js';
import type { ExecInput } from './exec-input.js';
import { ExecutionQueue, type QueueOptions } from './queue.js';
import type { ExecuteRequest } from './request.js';
import type { ExecutionResult } from './result.js';
import type { SessionManager } from './sessions/session-manager.js';
import type { SessionService } from './sessions/session-service.js';
import type { SessionSettings } from './sessions/session-settings.js';

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
  /** Called once the execution got its slot and stops waiting (a submission turns `running`). */
  onStart?: () => void;
}

/** How busy the service is: executions running (one sandbox each) and waiting for a slot. */
export interface ServiceLoad {
  running: number;
  queued: number;
}

/** The warm pools of every backend the service offers: they share one budget (max_idle, memory). */
export interface ServicePoolStats {
  /** Per backend and image, the default backend's first. */
  images: (PoolImageStats & { backend: string })[];
  /** Per backend with a pool: its idle sandboxes and the memory charged to them. */
  backends: { backend: string; idle_total: number; idle_memory_bytes: number }[];
  /** Over every backend. */
  idle_total: number;
  max_idle: number;
  idle_memory_bytes: number;
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
  /** Every backend a request may pick, the default first. */
  readonly backendNames: readonly string[];
  /** The image store, read-only here (manifests: versions, sizes). */
  readonly images: ImageStore;
  /** True once stopAccepting() was called. */
  readonly closed: boolean;
  execute(request: ExecuteRequest, options: ServiceExecuteOptions): Promise<ExecutionResult>;
  /** Sandboxes that live across calls (on the default backend), their work in the same queue. */
  readonly sessions: SessionService;
  /** Whether `count` more executions would be accepted right now (running or queued). */
  canAccept(count: number): Promise<boolean>;
  load(): Promise<ServiceLoad>;
  /** Every backend's warm pool, null when none has one. */
  poolStats(): Promise<ServicePoolStats | null>;
  /** The metrics hook point: `hook` sees every execution that ran. */
  onExecuted(hook: ExecutedHook): void;
  /** Refuses new work; waiting executions fail with SHUTTING_DOWN. */
  stopAccepting(): void;
  /** Cancels everything still running (each sandbox is destroyed by its engine). */
  cancelAll(): void;
}

/** The service's engines: the default one first, then one per further backend a request may pick (each with its own pool per image). */
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
  readonly #sessions: SessionManager | undefined;

  /**
   * `sessions`: the session manager's class and its settings, or none for a service that runs
   * one-shot executions only (`infra.operator run`: its cold start loads nothing of sessions).
   */
  constructor(engines: Engines, queue: QueueOptions, sessions?: { Manager: typeof SessionManager; settings?: SessionSettings }) {
    const first = engines.values().next().value;
    if (!first) throw new RangeError('a service needs at least one engine');
    this.#engines = engines;
    this.#default = first;
    this.#queue = new ExecutionQueue(queue);
    this.#sessions = sessions && new sessions.Manager((backend) => this.engineFor(backend), this.#queue, sessions.settings, (result, waitedMs) => {
      for (const hook of this.#hooks) hook(result, waitedMs);
    });
  }

  get sessions(): SessionManager {
    if (!this.#sessions) throw new RunnerError(ErrorCodes.INTERNAL, 'this service was opened without sessions (openService({ sessions: false }))');
    return this.#sessions;
  }

  get backendName(): string {
    return this.#default.backend.name;
  }

  get backendNames(): readonly string[] {
    return [...this.#engines.keys()];
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
        () => {
          options.onStart?.();
          return this.engineFor(options.backend).execute(request, {
            ...(options.traceId ? { traceId: options.traceId } : {}),
            ...(options.stream ? { stream: options.stream } : {}),
            ...(options.input ? { input: options.input } : {}),
            signal: controller.signal,
          });
        },
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

  async poolStats(): Promise<ServicePoolStats | null> {
    const pools = [...this.#engines].flatMap(([backend, engine]) => (engine.pool ? [{ backend, stats: engine.pool.stats() }] : []));
    if (pools.length === 0) return null;
    return {
      images: pools.flatMap(({ backend, stats }) => stats.images.map((image) => ({ backend, ...image }))),
      backends: pools.map(({ backend, stats }) => ({ backend, idle_total: stats.idle_total, idle_memory_bytes: stats.idle_memory_bytes })),
      idle_total: pools.reduce((sum, { stats }) => sum + stats.idle_total, 0),
      // The pools of one service share their budget (compose/open-service.ts): any one's cap is all's.
      max_idle: pools[0]!.stats.max_idle,
      idle_memory_bytes: pools.reduce((sum, { stats }) => sum + stats.idle_memory_bytes, 0),
    };
  }

  onExecuted(hook: ExecutedHook): void {
    this.#hooks.push(hook);
  }

  stopAccepting(): void {
    this.#queue.close();
    this.#sessions?.stopAccepting();
  }

  cancelAll(): void {
    for (const controller of this.#inFlight) controller.abort();
    this.#sessions?.cancelAll();
  }

  /** Stops, cancels what runs, ends every session, destroys every pool and waits for every sandbox to be gone. */
  async close(): Promise<void> {
    this.stopAccepting();
    this.cancelAll();
    // A client that went away without waiting (a closed WebSocket) leaves its execution tearing down.
    await Promise.all(this.#going);
    await this.#sessions?.close();
    await Promise.all([...this.#engines.values()].map((engine) => engine.close()));
  }
}
