import { performance } from 'node:perf_hooks';
import { ErrorCodes, RunnerError, SandboxError, SessionRequestError } from '../errors.js';
import { MAX_GET_BYTES, MAX_LIST_ENTRIES, PROTOCOL_VERSION } from '../protocol/limits.js';
import type {
  EntriesMessage, ExecRequest, FileEntry, FileMessage, JobStage, SessionErrorMessage, SessionMessage, SessionRequest, StageReport,
} from '../protocol/messages.js';
import type { AgentChannel } from './agent-channel.js';
import { killedStage, reconcile, stagesBudgetMs } from '../protocol/observed-stages.js';

export type { FileEntry } from '../protocol/messages.js';

/** Callbacks of one exec, called as its frames arrive. */
export interface ExecHandlers {
  onOutput?(stream: 'stdout' | 'stderr', data: Buffer, seq: number, stage: string): void;
  onStage?(stage: string): void;
  onControl?(data: Buffer): void;
}

export interface ExecOptions {
  /** Output frames while a stage runs (onOutput), and a stage frame before each (onStage). */
  stream?: boolean;
  /** The last stage's stdin stays open for stdin(); earlier stages get their stdin_b64 and EOF. */
  interactive?: boolean;
  /** The last stage gets fd 3, a control channel (control(), onControl). */
  control?: boolean;
}

export interface RunningExec {
  readonly id: number;
  /** The exec_result's stage reports, checked by the host (observed-stages.ts). Rejects if the sandbox dies. */
  readonly done: Promise<StageReport[]>;
  stdin(data: Buffer, eof?: boolean): void;
  signal(signal: number): void;
  control(data: Buffer): void;
}

export interface AgentSession {
  exec(stages: JobStage[], options?: ExecOptions, handlers?: ExecHandlers): RunningExec;
  put(path: string, content: Buffer, options?: { mode?: number; overwrite?: boolean }): Promise<void>;
  get(path: string, maxBytes: number): Promise<{ content: Buffer; size: number; mode: number; mtime_ms: number }>;
  list(path: string, options?: { recursive?: boolean; maxEntries?: number }): Promise<{ entries: FileEntry[]; truncated: boolean }>;
  remove(path: string, options?: { recursive?: boolean }): Promise<void>;
  /**
   * Ends the session: the agent kills every process in the sandbox and exits, so the sandbox ends
   * by itself; pending requests reject. Sandbox.destroy() still frees its host side (and alone also
   * ends a session: it kills the cgroup).
   */
  close(): void;
}

/** What the session asks of the sandbox that carries it. */
export interface SessionOwner {
  /** The agent broke its word (an exec past its host deadline, a request never answered): end the sandbox. */
  abandon(reason: Error): void;
}

/** How long a file request may go unanswered before the host gives up on the agent. */
const FILE_REQUEST_TIMEOUT_MS = 60_000;
const OPEN_TIMEOUT_MS = 10_000;
const DEFAULT_FILE_MODE = 0o644;

interface PendingExec {
  kind: 'exec';
  request: ExecRequest;
  handlers: ExecHandlers;
  started: number;
  timer: NodeJS.Timeout;
  resolve(stages: StageReport[]): void;
  reject(err: Error): void;
}

interface PendingFile {
  kind: 'file';
  type: 'put' | 'get' | 'list' | 'delete';
  path: string;
  timer: NodeJS.Timeout;
  resolve(message: SessionMessage): void;
  reject(err: Error): void;
}

/**
 * The host's end of a version 2 session over an AgentChannel: requests multiplexed by id, many in
 * flight; answers routed back to their request, output and control frames to their exec's
 * handlers. SECURITY: the host takes no exec's report on faith: its stages' timeouts are enforced
 * on the host's clock too (observed-stages.ts), and an agent that overruns them or leaves a
 * request unanswered has the whole sandbox abandoned.
 */
export class AgentSessionChannel implements AgentSession {
  readonly #channel: AgentChannel;
  readonly #owner: SessionOwner;
  readonly #pending = new Map<number, PendingExec | PendingFile>();
  #opened: { resolve(): void; reject(err: Error): void } | undefined;
  #nextId = 1;
  #failure: Error | undefined;

  private constructor(channel: AgentChannel, owner: SessionOwner) {
    this.#channel = channel;
    this.#owner = owner;
  }

  /** Sends `open` on a channel whose agent is ready and waits for `opened`. */
  static async open(channel: AgentChannel, workdir: string, owner: SessionOwner): Promise<AgentSessionChannel> {
    if (!channel.speaks(PROTOCOL_VERSION)) {
      throw new RunnerError(ErrorCodes.AGENT_PROTOCOL, `the agent does not speak protocol ${PROTOCOL_VERSION} (sessions); rebuild it with infra.operator setup`);
    }
    const session = new AgentSessionChannel(channel, owner);
    const opened = new Promise<void>((resolve, reject) => {
      session.#opened = { resolve, reject };
    });
    channel.listen({ frame: (m) => session.#frame(m), failed: (err) => session.#fail(err) });
    channel.send({ type: 'open', protocol: PROTOCOL_VERSION, workdir });
    const timer = setTimeout(() => session.#fail(new SandboxError(ErrorCodes.AGENT_TIMEOUT, `the agent did not open the session in ${OPEN_TIMEOUT_MS} ms`)), OPEN_TIMEOUT_MS);
    try {
      await opened;
    } finally {
      clearTimeout(timer);
    }
    return session;
  }

  exec(stages: JobStage[], options: ExecOptions = {}, handlers: ExecHandlers = {}): RunningExec {
    const id = this.#id();
    const request: ExecRequest = {
      type: 'exec', id, stages,
      stream: options.stream ?? false, interactive: options.interactive ?? false, control: options.control ?? false,
    };
    const done = new Promise<StageReport[]>((resolve, reject) => {
      if (this.#failure) return reject(this.#failure);
      const budget = stagesBudgetMs(stages);
      // SECURITY: the host's own deadline for this exec; past it the agent is not to be trusted.
      const timer = setTimeout(() => this.#overran(id), budget);
      this.#pending.set(id, { kind: 'exec', request, handlers, started: performance.now(), timer, resolve, reject });
      this.#send(request);
    });
    done.catch(() => undefined); // the caller sees it through `done`; never an unhandled rejection
    const session = this;
    return {
      id,
      done,
      stdin(data: Buffer, eof = false): void {
        session.#toExec(id, { type: 'stdin', id, data_b64: data.toString('base64'), eof });
      },
      signal(signal: number): void {
        if (!Number.isInteger(signal) || signal < 1 || signal > 64) throw new RunnerError(ErrorCodes.INVALID_REQUEST, `signal: must be an integer in 1..64, not ${signal}`);
        session.#toExec(id, { type: 'signal', id, signal });
      },
      control(data: Buffer): void {
        session.#toExec(id, { type: 'control', id, data_b64: data.toString('base64') });
      },
    };
  }

  async put(path: string, content: Buffer, options: { mode?: number; overwrite?: boolean } = {}): Promise<void> {
    await this.#file('put', path, {
      content_b64: content.toString('base64'), mode: options.mode ?? DEFAULT_FILE_MODE, overwrite: options.overwrite ?? true,
    });
  }

  async get(path: string, maxBytes: number): Promise<{ content: Buffer; size: number; mode: number; mtime_ms: number }> {
    const m = (await this.#file('get', path, { max_bytes: Math.min(maxBytes, MAX_GET_BYTES) })) as FileMessage;
    return { content: Buffer.from(m.content_b64, 'base64'), size: m.size, mode: m.mode, mtime_ms: m.mtime_ms };
  }

  async list(path: string, options: { recursive?: boolean; maxEntries?: number } = {}): Promise<{ entries: FileEntry[]; truncated: boolean }> {
    const m = (await this.#file('list', path, {
      recursive: options.recursive ?? false, max_entries: Math.min(options.maxEntries ?? MAX_LIST_ENTRIES, MAX_LIST_ENTRIES),
    })) as EntriesMessage;
    return { entries: m.entries, truncated: m.truncated };
  }

  async remove(path: string, options: { recursive?: boolean } = {}): Promise<void> {
    await this.#file('delete', path, { recursive: options.recursive ?? false });
  }

  close(): void {
    if (this.#failure) return;
    this.#send({ type: 'close' });
    this.#fail(new SandboxError(ErrorCodes.CANCELLED, 'session closed'));
  }

  #id(): number {
    return this.#nextId++;
  }

  #send(message: SessionRequest): void {
    try {
      this.#channel.send(message);
    } catch (err) {
      this.#fail(err as Error);
    }
  }

  /** stdin, signal, control: for an exec still in flight; after its end they have nothing to reach. */
  #toExec(id: number, message: SessionRequest): void {
    if (this.#failure || !this.#pending.has(id)) return;
    this.#send(message);
  }

  #file(type: PendingFile['type'], path: string, fields: Record<string, unknown>): Promise<SessionMessage> {
    return new Promise<SessionMessage>((resolve, reject) => {
      if (this.#failure) return reject(this.#failure);
      const id = this.#id();
      const timer = setTimeout(() => {
        const err = new SandboxError(ErrorCodes.AGENT_TIMEOUT, `the agent did not answer ${type} '${path}' in ${FILE_REQUEST_TIMEOUT_MS} ms`);
        this.#fail(err);
        this.#owner.abandon(err);
      }, FILE_REQUEST_TIMEOUT_MS);
      this.#pending.set(id, { kind: 'file', type, path, timer, resolve, reject });
      this.#send({ type, id, path, ...fields } as SessionRequest);
    });
  }

  #frame(m: SessionMessage): void {
    if (m.type === 'opened') {
      this.#opened?.resolve();
      this.#opened = undefined;
      return;
    }
    if (m.type === 'error' && m.id === undefined) {
      this.#fail(new RunnerError(ErrorCodes.AGENT_PROTOCOL, `the agent ended the session (${m.code}): ${m.message}`));
      return;
    }
    const pending = this.#pending.get(m.id!);
    if (!pending) return; // an answer about an exec that already ended (a late stdin's no_such_exec)
    if (pending.kind === 'exec') this.#execFrame(m.id!, pending, m);
    else this.#fileFrame(m.id!, pending, m);
  }

  #execFrame(id: number, x: PendingExec, m: SessionMessage): void {
    switch (m.type) {
      case 'output':
        return handle(() => x.handlers.onOutput?.(m.stream, Buffer.from(m.data_b64, 'base64'), m.seq, m.stage));
      case 'stage':
        return handle(() => x.handlers.onStage?.(m.name));
      case 'control':
        return handle(() => x.handlers.onControl?.(Buffer.from(m.data_b64, 'base64')));
      case 'exec_result':
        this.#settle(id);
        try {
          x.resolve(reconcile(x.request, m.stages, performance.now() - x.started));
        } catch (err) {
          x.reject(err as Error);
        }
        return;
      case 'error':
        if (m.request !== undefined && m.request !== 'exec') return; // about a stdin, signal or control frame
        this.#settle(id);
        x.reject(refusal(m, 'exec'));
        return;
      default:
        this.#fail(new RunnerError(ErrorCodes.AGENT_PROTOCOL, `unexpected '${m.type}' frame for exec ${id}`));
    }
  }

  #fileFrame(id: number, f: PendingFile, m: SessionMessage): void {
    this.#settle(id);
    const expected = { put: 'ok', delete: 'ok', get: 'file', list: 'entries' }[f.type];
    if (m.type === 'error') f.reject(refusal(m, f.type, f.path));
    else if (m.type === expected) f.resolve(m);
    else this.#fail(new RunnerError(ErrorCodes.AGENT_PROTOCOL, `expected '${expected}' for ${f.type} '${f.path}', got '${m.type}'`));
  }

  #settle(id: number): void {
    const pending = this.#pending.get(id);
    if (pending) clearTimeout(pending.timer);
    this.#pending.delete(id);
  }

  /** The host's deadline for an exec passed without its result: it timed out, whatever the agent says. */
  #overran(id: number): void {
    const x = this.#pending.get(id);
    if (!x || x.kind !== 'exec') return;
    this.#settle(id);
    const last = x.request.stages[x.request.stages.length - 1]!;
    x.resolve([killedStage(last.name, performance.now() - x.started)]);
    const err = new SandboxError(ErrorCodes.AGENT_TIMEOUT, `exec ${id} ran past its host deadline (${stagesBudgetMs(x.request.stages)} ms); the session was ended`);
    this.#fail(err);
    this.#owner.abandon(err);
  }

  #fail(err: Error): void {
    if (this.#failure) return;
    this.#failure = err;
    this.#opened?.reject(err);
    this.#opened = undefined;
    for (const [id, pending] of this.#pending) {
      clearTimeout(pending.timer);
      pending.reject(err);
      this.#pending.delete(id);
    }
  }
}

/**
 * Calls an exec's handler. Its failure (a client's stream that went away) is its caller's: it must
 * not fail the channel, which carries every other exec of the session.
 */
function handle(call: () => void): void {
  try {
    call();
  } catch {
    // deliberately ignored: see above
  }
}

function refusal(m: SessionErrorMessage, request: string, path?: string): SessionRequestError {
  const where = path === undefined ? request : `${request} '${path}'`;
  return new SessionRequestError({ agentCode: m.code, request, ...(path === undefined ? {} : { path }) }, `${where}: ${m.message} (${m.code})`);
}
