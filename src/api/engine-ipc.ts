import type { ChildProcess } from 'node:child_process';
import type { OutputStream, StreamHandlers } from '../engine/exec-events.js';
import { ExecInput } from '../engine/exec-input.js';
import type { ExecuteRequest } from '../engine/request.js';
import type { ExecutionResult } from '../engine/result.js';
import type { ExecutedHook, ExecutionService, Service, ServiceExecuteOptions, ServiceLoad, ServicePoolStats } from '../engine/service.js';
import { ErrorCodes, InvalidRequestError, RunnerError, isRunnerError, type ErrorCode } from '../errors.js';
import type { ImageStore } from '../images/store.js';
import { RemoteSessions, serveSessionCall, type SessionCall } from './session-ipc.js';

/**
 * The execution service over Node's IPC channel, for privilege separation: the HTTP side
 * (unprivileged worker) asks, the service in the privileged parent (the only process that creates
 * cgroups and starts sandboxes) answers. Messages are JSON; the parent trusts nothing in them:
 * requests are validated by the engine like any other, and work is bounded by the service's queue,
 * the only one (the worker keeps none).
 */
export type WorkerMessage =
  | { type: 'execute'; id: number; request: ExecuteRequest; traceId?: string; backend?: string; stream?: boolean; interactive?: boolean; started?: boolean }
  | { type: 'cancel'; id: number }
  | { type: 'stdin'; id: number; data_b64: string; eof: boolean }
  | { type: 'signal'; id: number; signal: number }
  | { type: 'pool'; id: number }
  | { type: 'load'; id: number }
  | { type: 'accept'; id: number; count: number }
  | { type: 'stop'; id: number }
  | { type: 'session'; id: number; owner: string; call: SessionCall };

export type EngineMessage =
  | { type: 'result'; id: number; result: ExecutionResult; waitedMs: number }
  | { type: 'output'; id: number; stream: OutputStream; stage: string; seq: number; data_b64: string }
  | { type: 'stage'; id: number; stage: string }
  | { type: 'started'; id: number }
  | { type: 'error'; id: number; error: SerializedError }
  | { type: 'pool'; id: number; stats: ServicePoolStats | null }
  | { type: 'load'; id: number; load: ServiceLoad }
  | { type: 'accept'; id: number; ok: boolean }
  | { type: 'session'; id: number; value: unknown };

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
 * Parent side: answers the worker from the service. The service's queue bounds the work the worker
 * can ask for, whatever it asks: a compromised HTTP side still cannot start more sandboxes than that.
 */
export function serveService(service: ExecutionService, worker: ChildProcess): void {
  const running = new Map<number, AbortController>();
  const inputs = new Map<number, ExecInput>();
  /** Handlers sending a call's output and stage starts to the worker, under the call's id. */
  const streamTo = (id: number): StreamHandlers => ({
    onOutput: (out, data, seq, stage) => send({ type: 'output', id, stream: out, stage, seq, data_b64: data.toString('base64') }),
    onStage: (stage) => send({ type: 'stage', id, stage }),
  });
  const send = (message: EngineMessage): void => {
    if (worker.connected) worker.send(message);
  };
  const answer = (id: number, work: () => Promise<EngineMessage>): Promise<void> =>
    work()
      .catch((err: unknown): EngineMessage => ({ type: 'error', id, error: serializeError(err) }))
      .then(send);
  worker.on('message', (raw: unknown) => {
    const message = raw as Partial<WorkerMessage> | null;
    if (message === null || typeof message !== 'object' || !isId(message.id)) return;
    const id = message.id;
    if (message.type === 'cancel') {
      running.get(id)?.abort();
    } else if (message.type === 'stdin') {
      const input = inputs.get(id);
      if (!input || typeof message.data_b64 !== 'string') return;
      try {
        input.write(Buffer.from(message.data_b64, 'base64'));
        if (message.eof === true) input.end();
      } catch {
        // Past the stdin maximum: the worker's own ExecInput refused it to its client already.
      }
    } else if (message.type === 'signal') {
      try {
        inputs.get(id)?.signal(message.signal as number);
      } catch {
        // Not a signal number: the worker's ExecInput refused it to its client already.
      }
    } else if (message.type === 'pool') {
      void answer(id, async () => ({ type: 'pool', id, stats: await service.poolStats() }));
    } else if (message.type === 'load') {
      void answer(id, async () => ({ type: 'load', id, load: await service.load() }));
    } else if (message.type === 'accept') {
      const count = Number.isSafeInteger(message.count) ? (message.count as number) : Infinity;
      void answer(id, async () => ({ type: 'accept', id, ok: await service.canAccept(count) }));
    } else if (message.type === 'stop') {
      service.stopAccepting();
    } else if (message.type === 'session' && !running.has(id)) {
      const controller = new AbortController();
      running.set(id, controller);
      const { owner, call } = message;
      const input = (): ExecInput => {
        const created = new ExecInput();
        inputs.set(id, created);
        return created;
      };
      void answer(id, async () => ({ type: 'session', id, value: await serveSessionCall(service.sessions, owner, call, controller.signal, { stream: streamTo(id), input }) })).finally(() => {
        running.delete(id);
        inputs.delete(id);
      });
    } else if (message.type === 'execute' && typeof message.request === 'object' && message.request !== null && !running.has(id)) {
      const controller = new AbortController();
      running.set(id, controller);
      const traceId = typeof message.traceId === 'string' ? message.traceId : String(id);
      const backend = typeof message.backend === 'string' ? message.backend : undefined;
      const request = message.request;
      const stream = message.stream === true ? streamTo(id) : undefined;
      const input = message.interactive === true ? new ExecInput() : undefined;
      if (input) inputs.set(id, input);
      const onStart = message.started === true ? () => void send({ type: 'started', id }) : undefined;
      // The waited time travels with the result: the worker's metrics hooks see what the service saw.
      void answer(id, async () => {
        const { value, waitedMs } = await service.executeTimed(request, {
          traceId,
          signal: controller.signal,
          ...(backend ? { backend } : {}),
          ...(stream ? { stream } : {}),
          ...(input ? { input } : {}),
          ...(onStart ? { onStart } : {}),
        });
        return { type: 'result', id, result: value, waitedMs };
      }).finally(() => {
        running.delete(id);
        inputs.delete(id);
      });
    }
  });
  // The worker gone: nothing it asked for is wanted any more.
  worker.once('exit', () => {
    service.stopAccepting();
    for (const controller of running.values()) controller.abort();
  });
}

const gone = (): RunnerError => new RunnerError(ErrorCodes.SHUTTING_DOWN, 'the engine process is gone');

/** Worker side: the Service whose queue and engines live in the parent process; it keeps no queue of its own. */
export class RemoteService implements Service {
  readonly backendNames: readonly string[];
  readonly images: ImageStore;
  #closed = false;
  #nextId = 0;
  readonly #pending = new Map<number, { resolve: (message: EngineMessage) => void; reject: (err: Error) => void }>();
  readonly #streams = new Map<number, StreamHandlers>();
  readonly #starts = new Map<number, () => void>();
  readonly #inFlight = new Set<AbortController>();
  readonly #hooks: ExecutedHook[] = [];
  readonly sessions = new RemoteSessions((owner, call, signal, interaction) => this.#session(owner, call, signal, interaction));

  /**
   * Call after the message that starts the call id (IPC keeps the order): the parent's ExecInput of
   * that call keeps the input until the program runs.
   */
  #forwardInput(id: number, input: ExecInput | undefined): void {
    input?.attach(
      {
        stdin: (data, eof) => void this.#send({ type: 'stdin', id, data_b64: data.toString('base64'), eof }),
        signal: (signal) => void this.#send({ type: 'signal', id, signal }),
      },
      Infinity,
    );
  }

  constructor(backendNames: readonly string[], images: ImageStore) {
    if (backendNames.length === 0) throw new RangeError('a service offers at least one backend');
    this.backendNames = backendNames;
    this.images = images;
    process.on('message', (raw: unknown) => {
      const message = raw as EngineMessage;
      if (message && typeof message === 'object' && 'id' in message) {
        if (message.type === 'output') {
          this.#streams.get(message.id)?.onOutput?.(message.stream, Buffer.from(message.data_b64, 'base64'), message.seq, message.stage);
          return;
        }
        if (message.type === 'stage') {
          this.#streams.get(message.id)?.onStage?.(message.stage);
          return;
        }
        if (message.type === 'started') {
          this.#starts.get(message.id)?.();
          return;
        }
        this.#pending.get(message.id)?.resolve(message);
        this.#pending.delete(message.id);
      }
    });
    process.once('disconnect', () => {
      for (const waiter of this.#pending.values()) waiter.reject(gone());
      this.#pending.clear();
    });
  }

  get backendName(): string {
    return this.backendNames[0]!;
  }

  get closed(): boolean {
    return this.#closed;
  }

  #send(message: WorkerMessage): boolean {
    if (!process.send || !process.connected) return false;
    process.send(message);
    return true;
  }

  async #ask<T extends EngineMessage['type']>(message: WorkerMessage, type: T): Promise<Extract<EngineMessage, { type: T }>> {
    const answer = await new Promise<EngineMessage>((resolve, reject) => {
      this.#pending.set(message.id, { resolve, reject });
      if (!this.#send(message)) {
        this.#pending.delete(message.id);
        reject(gone());
      }
    });
    if (answer.type === 'error') throw deserializeError(answer.error);
    if (answer.type !== type) throw new RunnerError(ErrorCodes.INTERNAL, `unexpected answer '${answer.type}'`);
    return answer as Extract<EngineMessage, { type: T }>;
  }

  async execute(request: ExecuteRequest, options: ServiceExecuteOptions): Promise<ExecutionResult> {
    const id = this.#nextId++;
    const controller = new AbortController();
    const cancel = (): void => controller.abort();
    controller.signal.addEventListener('abort', () => void this.#send({ type: 'cancel', id }), { once: true });
    options.signal?.addEventListener('abort', cancel, { once: true });
    this.#inFlight.add(controller);
    if (options.stream) this.#streams.set(id, options.stream);
    if (options.onStart) this.#starts.set(id, options.onStart);
    try {
      const answer = this.#ask(
        {
          type: 'execute',
          id,
          request,
          ...(options.traceId ? { traceId: options.traceId } : {}),
          ...(options.backend ? { backend: options.backend } : {}),
          ...(options.stream ? { stream: true } : {}),
          ...(options.input ? { interactive: true } : {}),
          ...(options.onStart ? { started: true } : {}),
        },
        'result',
      );
      this.#forwardInput(id, options.input);
      const { result, waitedMs } = await answer;
      for (const hook of this.#hooks) hook(result, waitedMs);
      return result;
    } finally {
      options.signal?.removeEventListener('abort', cancel);
      options.input?.detach();
      this.#streams.delete(id);
      this.#starts.delete(id);
      this.#inFlight.delete(controller);
    }
  }

  /** One session call; aborting `signal` cancels it in the parent (an execution's processes are killed). */
  async #session(owner: string, call: SessionCall, signal?: AbortSignal, interaction: { stream?: StreamHandlers; input?: ExecInput } = {}): Promise<unknown> {
    const id = this.#nextId++;
    const cancel = (): void => void this.#send({ type: 'cancel', id });
    signal?.addEventListener('abort', cancel, { once: true });
    if (interaction.stream) this.#streams.set(id, interaction.stream);
    try {
      const answer = this.#ask({ type: 'session', id, owner, call }, 'session');
      this.#forwardInput(id, interaction.input);
      return (await answer).value;
    } finally {
      signal?.removeEventListener('abort', cancel);
      interaction.input?.detach();
      this.#streams.delete(id);
    }
  }

  async canAccept(count: number): Promise<boolean> {
    return !this.#closed && (await this.#ask({ type: 'accept', id: this.#nextId++, count }, 'accept')).ok;
  }

  async load(): Promise<ServiceLoad> {
    return (await this.#ask({ type: 'load', id: this.#nextId++ }, 'load')).load;
  }

  async poolStats(): Promise<ServicePoolStats | null> {
    return (await this.#ask({ type: 'pool', id: this.#nextId++ }, 'pool')).stats;
  }

  onExecuted(hook: ExecutedHook): void {
    this.#hooks.push(hook);
  }

  stopAccepting(): void {
    this.#closed = true;
    this.#send({ type: 'stop', id: this.#nextId++ });
  }

  cancelAll(): void {
    for (const controller of this.#inFlight) controller.abort();
  }
}
