import type { ChildProcess } from 'node:child_process';
import type { PoolStats } from '../engine/pool.js';
import { ExecutionQueue } from '../engine/queue.js';
import type { ExecuteRequest } from '../engine/request.js';
import type { ExecutionResult } from '../engine/result.js';
import { ErrorCodes, InvalidRequestError, RunnerError, isRunnerError, type ErrorCode } from '../errors.js';
import type { ImageStore } from '../images/store.js';
import { engineFor, type EngineService, type Engines, type ExecuteOptions } from './engine-service.js';

/**
 * The engine over Node's IPC channel, for privilege separation: the HTTP side (unprivileged
 * worker) asks, the engine side (the privileged parent, the only one that creates cgroups and
 * starts sandboxes) answers. Messages are JSON; the parent trusts nothing in them: requests are
 * validated by the engine like any other, and work is bounded by its own queue.
 */
export type WorkerMessage =
  | { type: 'execute'; id: number; request: ExecuteRequest; traceId: string; backend?: string }
  | { type: 'cancel'; id: number }
  | { type: 'pool'; id: number };

export type EngineMessage =
  | { type: 'result'; id: number; result: ExecutionResult }
  | { type: 'error'; id: number; error: SerializedError }
  | { type: 'pool'; id: number; stats: PoolStats | null };

interface SerializedError {
  code: ErrorCode;
  message: string;
  hint?: string;
  field?: string;
}

function serializeError(err: unknown): SerializedError {
  if (!isRunnerError(err)) return { code: ErrorCodes.INTERNAL, message: 'internal error' };
  return {
    code: err.code,
    message: err.message,
    ...(err.hint ? { hint: err.hint } : {}),
    ...(err instanceof InvalidRequestError ? { field: err.field } : {}),
  };
}

function deserializeError(error: SerializedError): RunnerError {
  if (error.field !== undefined) {
    // InvalidRequestError prefixes its message with the field; the serialized message has it already.
    const prefix = `${error.field}: `;
    return new InvalidRequestError(error.field, error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message, error.code);
  }
  return new RunnerError(error.code, error.message, error.hint ? { hint: error.hint } : {});
}

const isId = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;

/**
 * Parent side: runs the worker's executions on the engine. `limits` bound the work the worker can
 * ask for, whatever it asks: a compromised HTTP side still cannot start more sandboxes than this.
 */
export function serveEngine(engines: Engines, worker: ChildProcess, limits: { concurrency: number; queueLimit: number }): void {
  const engine = engineFor(engines, undefined);
  const queue = new ExecutionQueue({ concurrency: limits.concurrency, maxQueued: limits.queueLimit });
  const running = new Map<number, AbortController>();
  const send = (message: EngineMessage): void => {
    if (worker.connected) worker.send(message);
  };
  worker.on('message', (raw: unknown) => {
    const message = raw as Partial<WorkerMessage> | null;
    if (message === null || typeof message !== 'object' || !isId(message.id)) return;
    const id = message.id;
    if (message.type === 'cancel') {
      running.get(id)?.abort();
    } else if (message.type === 'pool') {
      send({ type: 'pool', id, stats: engine.pool?.stats() ?? null });
    } else if (message.type === 'execute' && typeof message.request === 'object' && message.request !== null && !running.has(id)) {
      const controller = new AbortController();
      running.set(id, controller);
      const traceId = typeof message.traceId === 'string' ? message.traceId : String(id);
      const request = message.request;
      const backend = typeof message.backend === 'string' ? message.backend : undefined;
      queue
        .run(() => engineFor(engines, backend).execute(request, { traceId, signal: controller.signal }), controller.signal)
        .then(({ value }) => send({ type: 'result', id, result: value }))
        .catch((err: unknown) => send({ type: 'error', id, error: serializeError(err) }))
        .finally(() => running.delete(id));
    }
  });
  // The worker gone: nothing it asked for is wanted any more.
  worker.once('exit', () => {
    queue.close();
    for (const controller of running.values()) controller.abort();
  });
}

/** Worker side: an EngineService whose engine lives in the parent process. */
export class RemoteEngineService implements EngineService {
  readonly backendName: string;
  readonly images: ImageStore;
  #nextId = 0;
  readonly #pending = new Map<number, { resolve: (message: EngineMessage) => void; reject: (err: Error) => void }>();

  constructor(backendName: string, images: ImageStore) {
    this.backendName = backendName;
    this.images = images;
    process.on('message', (raw: unknown) => {
      const message = raw as EngineMessage;
      if (message && typeof message === 'object' && 'id' in message) {
        this.#pending.get(message.id)?.resolve(message);
        this.#pending.delete(message.id);
      }
    });
    process.once('disconnect', () => {
      for (const waiter of this.#pending.values()) waiter.reject(new RunnerError(ErrorCodes.SHUTTING_DOWN, 'the engine process is gone'));
      this.#pending.clear();
    });
  }

  #ask(message: WorkerMessage): Promise<EngineMessage> {
    if (!process.send || !process.connected) return Promise.reject(new RunnerError(ErrorCodes.SHUTTING_DOWN, 'the engine process is gone'));
    return new Promise((resolve, reject) => {
      this.#pending.set(message.id, { resolve, reject });
      process.send!(message);
    });
  }

  async execute(request: ExecuteRequest, options: ExecuteOptions): Promise<ExecutionResult> {
    const id = this.#nextId++;
    const cancel = (): void => void process.send?.({ type: 'cancel', id } satisfies WorkerMessage);
    options.signal?.addEventListener('abort', cancel, { once: true });
    try {
      const answer = await this.#ask({ type: 'execute', id, request, traceId: options.traceId, ...(options.backend ? { backend: options.backend } : {}) });
      if (answer.type === 'error') throw deserializeError(answer.error);
      if (answer.type !== 'result') throw new RunnerError(ErrorCodes.INTERNAL, `unexpected answer '${answer.type}'`);
      return answer.result;
    } finally {
      options.signal?.removeEventListener('abort', cancel);
    }
  }

  async poolStats(): Promise<PoolStats | null> {
    const answer = await this.#ask({ type: 'pool', id: this.#nextId++ });
    return answer.type === 'pool' ? answer.stats : null;
  }
}
