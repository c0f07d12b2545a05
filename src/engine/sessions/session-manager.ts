import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { ErrorCodes, InvalidRequestError, RunnerError, SandboxError, isRunnerError } from '../../errors.js';
import { getLanguage } from '../../languages/lookup.js';
import { DEFAULT_KERNEL_LANGUAGE, Kernel, kernelLanguages, type CellResult } from '../kernel.js';
import { stageEnv } from '../job.js';
import type { Sandbox } from '../../sandbox/backend.js';
import type { Engine } from '../engine.js';
import type { ExecutionQueue } from '../queue.js';
import { normalizeEnv } from '../request.js';
import { failedResult, successResult, type ExecutionResult, type ResultContext } from '../result.js';
import { SessionCaps, type SessionReservation } from './session-caps.js';
import { runInSession } from './session-exec.js';
import { agentCodeOf, sessionFileError } from './session-file-errors.js';
import { buildSessionJob, sessionFiles } from './session-job.js';
import { validateSessionPath } from './session-path.js';
import { SessionReaper } from './session-reaper.js';
import type {
  SessionCallOptions, SessionCellRequest, SessionCreateRequest, SessionExecRequest, SessionFile, SessionInfo, SessionListing, SessionOwner, SessionService,
} from './session-service.js';
import { DEFAULT_SESSION_SETTINGS, sessionTimeouts, type SessionSettings } from './session-settings.js';
import { Session } from './session.js';

/** Limits are an object of the create request: its errors name `limits.<field>`. */
function underLimits<T>(resolve: () => T): T {
  try {
    return resolve();
  } catch (err) {
    if (err instanceof InvalidRequestError) throw new InvalidRequestError(`limits.${err.field}`, err.message.slice(err.field.length + 2), err.code);
    throw err;
  }
}

/** How long an interpreter kernel may take to start (the data-science libraries load on first import, not here). */
const KERNEL_START_TIMEOUT_MS = 30_000;

/** Called with each execution's result and the time it waited for a slot (the service's metrics hooks). */
export type SessionExecutedHook = (result: ExecutionResult, waitedMs: number) => void;

/**
 * The sessions of one service: sandboxes that live across calls, each on the engine of the backend it
 * asked for (the default one otherwise: its warm pool, its limits and maxima), their work bounded by the service's one queue (starting a session and
 * each execution take a slot like any one-shot execution). Owns every session's sandbox: close()
 * leaves none behind, and a crash leaves cgroups the next start removes (sandbox/stale-sandboxes.ts)
 * and no process (each sandbox dies with this process).
 */
export class SessionManager implements SessionService {
  readonly #engineFor: (backend?: string) => Engine;
  readonly #queue: ExecutionQueue;
  readonly #settings: SessionSettings;
  readonly #caps: SessionCaps;
  readonly #sessions = new Map<string, { session: Session; reservation: SessionReservation }>();
  readonly #inFlight = new Set<AbortController>();
  readonly #ending = new Set<Promise<void>>();
  readonly #reaper: SessionReaper;
  readonly #onExecuted: SessionExecutedHook;
  #closed = false;

  constructor(engineFor: (backend?: string) => Engine, queue: ExecutionQueue, settings: SessionSettings = DEFAULT_SESSION_SETTINGS, onExecuted: SessionExecutedHook = () => undefined) {
    this.#engineFor = engineFor;
    this.#queue = queue;
    this.#settings = settings;
    this.#caps = new SessionCaps(settings);
    this.#onExecuted = onExecuted;
    this.#reaper = new SessionReaper(() => [...this.#sessions.values()].map((entry) => entry.session), (session, reason) => void this.#end(session, reason));
  }

  /** Live sessions (all owners). */
  get size(): number {
    return this.#sessions.size;
  }

  async create(owner: SessionOwner, request: SessionCreateRequest, options: SessionCallOptions = {}): Promise<SessionInfo> {
    const engine = this.#engineFor(request.backend);
    const language = getLanguage(request.language ?? DEFAULT_KERNEL_LANGUAGE);
    const limitRequest = request.limits ?? {};
    const limits = underLimits(() => engine.limitsFor(language, limitRequest));
    const { idleMs, lifetimeMs } = sessionTimeouts(request, this.#settings);
    const env = Object.fromEntries(normalizeEnv(request.env, engine.inputMaxima));
    const files = sessionFiles(request.files, 'files', engine.inputMaxima);
    for (const [index, file] of files.entries()) this.#checkFileSize(file.content.length, `files[${index}].content`);
    const manifest = engine.images.require(language.image, language.id);
    if (this.#closed) throw new RunnerError(ErrorCodes.SHUTTING_DOWN, 'server is shutting down');
    const reservation = this.#caps.reserve(owner, limits.memoryBytes);
    const id = randomUUID();
    let sandbox: Sandbox | undefined;
    try {
      const { value: session } = await this.#queue.run(async () => {
        sandbox = await engine.acquire(language, limits, options.traceId ?? id);
        const agent = await sandbox.openSession();
        for (const [index, file] of files.entries()) {
          await agent.put(file.path, file.content, { overwrite: true }).catch((err: unknown) => {
            throw sessionFileError(err, `files[${index}].name`, file.path);
          });
        }
        return new Session({ id, owner, engine, language, version: manifest.versions[language.id] ?? null, limitRequest, limits, env, idleMs, lifetimeMs, sandbox, agent });
      }, options.signal);
      // Closed while it started: it must not outlive the service.
      if (this.#closed) throw new RunnerError(ErrorCodes.SHUTTING_DOWN, 'server is shutting down');
      this.#sessions.set(id, { session, reservation });
      return session.info();
    } catch (err) {
      reservation.release();
      await sandbox?.destroy();
      throw isRunnerError(err) ? err : new SandboxError(ErrorCodes.SANDBOX_START, (err as Error)?.message ?? String(err), { cause: err });
    }
  }

  async get(owner: SessionOwner, id: string): Promise<SessionInfo> {
    return this.#find(owner, id).info();
  }

  async list(owner: SessionOwner): Promise<SessionInfo[]> {
    return [...this.#sessions.values()]
      .map((entry) => entry.session)
      .filter((session) => session.owner === owner && session.sandbox.alive)
      .sort((a, b) => a.createdAt - b.createdAt)
      .map((session) => session.info());
  }

  async keepalive(owner: SessionOwner, id: string): Promise<SessionInfo> {
    const session = this.#find(owner, id);
    session.touch();
    return session.info();
  }

  async remove(owner: SessionOwner, id: string): Promise<void> {
    await this.#end(this.#find(owner, id), 'it was deleted');
  }

  async execute(owner: SessionOwner, id: string, request: SessionExecRequest, options: SessionCallOptions = {}): Promise<ExecutionResult> {
    const session = this.#find(owner, id);
    const limits = session.engine.limitsFor(session.language, { ...session.limitRequest, ...(request.timeoutMs !== undefined ? { timeoutMs: request.timeoutMs } : {}) });
    const job = buildSessionJob(session.language, request, session.env, limits, session.engine.inputMaxima);
    for (const [index, file] of job.files.entries()) this.#checkFileSize(file.content.length, request.code !== undefined && index === job.files.length - 1 ? 'code' : `files[${index}].content`);
    const controller = new AbortController();
    const onAbort = (): void => controller.abort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    this.#inFlight.add(controller);
    const started = performance.now();
    const ctx: ResultContext = { traceId: options.traceId ?? randomUUID(), language: session.language.id, version: session.version, loadMs: 0, totalMs: 0 };
    try {
      const { value, waitedMs } = await this.#queue.run(
        () =>
          session.use(async () => {
            const slotAt = performance.now();
            try {
              for (const file of job.files) await session.agent.put(file.path, file.content, { overwrite: true }).catch((err: unknown) => Promise.reject(sessionFileError(err, 'files', file.path)));
              ctx.loadMs = performance.now() - slotAt;
              const outcome = await runInSession(session.sandbox, session.agent, job.stages, controller.signal);
              ctx.totalMs = performance.now() - started;
              // An exec past the host's deadline had its sandbox abandoned (agent-session.ts): the session is over.
              if (!session.sandbox.alive) void this.#end(session, 'an execution ran past its host deadline');
              if (outcome.cancelled) return failedResult(ctx, new RunnerError(ErrorCodes.CANCELLED, 'execution cancelled'));
              return successResult(ctx, outcome.stages, job.outputEncoding, outcome.oomKills);
            } catch (err) {
              ctx.totalMs = performance.now() - started;
              if (err instanceof RunnerError && err.code === ErrorCodes.INVALID_REQUEST) throw err;
              // The session ended under the execution (deleted, reaped), or its sandbox died: it is over.
              if (session.endReason) return failedResult(ctx, new RunnerError(ErrorCodes.CANCELLED, `the session ended while this execution ran: ${session.endReason}`));
              if (!session.sandbox.alive) void this.#end(session, 'its sandbox died');
              return failedResult(ctx, isRunnerError(err) ? err : new SandboxError(ErrorCodes.AGENT_PROTOCOL, (err as Error)?.message ?? String(err)));
            }
          }),
        controller.signal,
      );
      this.#onExecuted(value, waitedMs);
      return value;
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
      this.#inFlight.delete(controller);
    }
  }

  async runCode(owner: SessionOwner, id: string, request: SessionCellRequest, options: SessionCallOptions = {}): Promise<CellResult> {
    const session = this.#find(owner, id);
    if (typeof request.code !== 'string') throw new InvalidRequestError('code', 'must be a string');
    const { language } = session;
    if (!kernelLanguages().includes(language.id)) {
      throw new InvalidRequestError('language', `the session's language '${language.id}' has no interpreter kernel (run_code works in: ${kernelLanguages().join(', ')}); use execute, or a session of one of those`);
    }
    const limits = session.engine.limitsFor(language, { ...session.limitRequest, ...(request.timeoutMs !== undefined ? { timeoutMs: request.timeoutMs } : {}) });
    const { value } = await this.#queue.run(
      () =>
        session.use(async () => {
          const kernel = await session.kernel(() =>
            Kernel.start(session.agent, language.id, { env: stageEnv(language, { env: Object.entries(session.env) }), limits: session.limits, timeoutMs: KERNEL_START_TIMEOUT_MS }),
          );
          return kernel.run(request.code, limits.runTimeoutMs);
        }),
      options.signal,
    );
    return value;
  }

  async putFile(owner: SessionOwner, id: string, path: string, content: Buffer, options: { mode?: number } = {}): Promise<{ path: string; size: number }> {
    const session = this.#find(owner, id);
    const valid = validateSessionPath(path, 'path');
    this.#checkFileSize(content.length, 'body');
    return session.use(async () => {
      await this.#checkSessionBytes(session, valid, content.length);
      await session.agent.put(valid, content, { overwrite: true, ...(options.mode !== undefined ? { mode: options.mode } : {}) }).catch((err: unknown) => Promise.reject(sessionFileError(err, 'path', valid)));
      return { path: valid, size: content.length };
    });
  }

  async getFile(owner: SessionOwner, id: string, path: string): Promise<SessionFile | SessionListing> {
    const session = this.#find(owner, id);
    const valid = validateSessionPath(path, 'path');
    return session.use(async () => {
      try {
        return await session.agent.get(valid, this.#settings.maxFileBytes);
      } catch (err) {
        if (agentCodeOf(err) === 'is_dir') return this.#list(session, valid);
        throw sessionFileError(err, 'path', valid);
      }
    });
  }

  async listFiles(owner: SessionOwner, id: string, path: string): Promise<SessionListing> {
    const session = this.#find(owner, id);
    const valid = validateSessionPath(path, 'path', { root: true });
    return session.use(() => this.#list(session, valid));
  }

  async deleteFile(owner: SessionOwner, id: string, path: string): Promise<void> {
    const session = this.#find(owner, id);
    const valid = validateSessionPath(path, 'path');
    await session.use(() => session.agent.remove(valid, { recursive: true }).catch((err: unknown) => Promise.reject(sessionFileError(err, 'path', valid))));
  }

  /** Refuses new sessions; the live ones go on until close(). */
  stopAccepting(): void {
    this.#closed = true;
  }

  /** Kills every running execution's processes (their sessions live on until close()). */
  cancelAll(): void {
    for (const controller of this.#inFlight) controller.abort();
  }

  /** Ends every session and waits until each sandbox is gone. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#reaper.stop();
    for (const { session } of [...this.#sessions.values()]) void this.#end(session, 'the server is shutting down');
    await Promise.all(this.#ending);
  }

  /** The caller's live session `id`; another owner's, an ended one and an unknown id are all the same 404. */
  #find(owner: SessionOwner, id: string): Session {
    const entry = typeof id === 'string' ? this.#sessions.get(id) : undefined;
    if (!entry || entry.session.owner !== owner) throw new RunnerError(ErrorCodes.NOT_FOUND, 'no such session: it never existed, has ended, or belongs to another API key');
    if (!entry.session.sandbox.alive) {
      void this.#end(entry.session, 'its sandbox died');
      throw new RunnerError(ErrorCodes.NOT_FOUND, `session '${id}' has ended: its sandbox is gone`);
    }
    return entry.session;
  }

  #end(session: Session, reason: string): Promise<void> {
    const entry = this.#sessions.get(session.id);
    if (entry?.session === session) {
      this.#sessions.delete(session.id);
      // Charged until the sandbox is gone: its memory is in use until then.
      const ending = session.end(reason).catch(() => undefined).finally(() => {
        entry.reservation.release();
        this.#ending.delete(ending);
      });
      this.#ending.add(ending);
      return ending;
    }
    return session.end(reason).catch(() => undefined);
  }

  #list(session: Session, path: string): Promise<SessionListing> {
    return session.agent.list(path, { recursive: true, maxEntries: this.#settings.maxListEntries }).catch((err: unknown) => Promise.reject(sessionFileError(err, 'path', path)));
  }

  #checkFileSize(bytes: number, field: string): void {
    if (bytes > this.#settings.maxFileBytes) {
      throw new RunnerError(ErrorCodes.FILE_TOO_LARGE, `${field}: ${bytes} bytes is more than the ${this.#settings.maxFileBytes}-byte per-file cap (session_max_file_bytes)`);
    }
  }

  /** A put may not bring the work directory's files over the per-session cap (the file it replaces does not count). */
  async #checkSessionBytes(session: Session, path: string, bytes: number): Promise<void> {
    const { entries } = await session.agent.list('', { recursive: true, maxEntries: this.#settings.maxListEntries });
    const used = entries.filter((e) => e.type === 'file' && e.path !== path).reduce((sum, e) => sum + e.size, 0);
    if (used + bytes > this.#settings.maxSessionBytes) {
      throw new RunnerError(ErrorCodes.FILE_TOO_LARGE, `body: the session's files would take ${used + bytes} bytes, more than its ${this.#settings.maxSessionBytes}-byte cap (session_max_bytes)`);
    }
  }
}
