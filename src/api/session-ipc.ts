import { Buffer } from 'node:buffer';
import type { CellResult } from '../engine/kernel.js';
import type { ExecutionResult } from '../engine/result.js';
import type {
  SessionCallOptions, SessionCellRequest, SessionCreateRequest, SessionExecRequest, SessionFile, SessionInfo, SessionListing, SessionOwner, SessionService,
} from '../engine/sessions/session-service.js';
import { ErrorCodes, InvalidRequestError, RunnerError } from '../errors.js';

/**
 * Session calls over the privilege-separated server's IPC channel (engine-ipc.ts carries them): one
 * message per SessionService method, file contents as base64 (the channel is JSON). The parent
 * trusts nothing in them: every argument is checked here for its type and again by the session
 * manager, as for any caller; the owner is the worker's word, as the API key check lives there.
 */
export type SessionCall =
  | { op: 'create'; request: SessionCreateRequest; traceId?: string }
  | { op: 'get'; session: string }
  | { op: 'list' }
  | { op: 'keepalive'; session: string }
  | { op: 'remove'; session: string }
  | { op: 'execute'; session: string; request: SessionExecRequest; traceId?: string }
  | { op: 'runCode'; session: string; request: SessionCellRequest }
  | { op: 'putFile'; session: string; path: string; content_b64: string; mode?: number }
  | { op: 'getFile'; session: string; path: string }
  | { op: 'listFiles'; session: string; path: string }
  | { op: 'deleteFile'; session: string; path: string };

/** A SessionFile on the channel. */
type WireFile = Omit<SessionFile, 'content'> & { content_b64: string };

const text = (value: unknown, field: string): string => {
  if (typeof value !== 'string') throw new InvalidRequestError(field, 'must be a string');
  return value;
};
const object = <T>(value: unknown, field: string): T => {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new InvalidRequestError(field, 'must be an object');
  return value as T;
};

/** Parent side: one call of the worker's, answered from the service's sessions. */
export async function serveSessionCall(sessions: SessionService, owner: unknown, raw: unknown, signal: AbortSignal): Promise<unknown> {
  const who = text(owner, 'owner');
  const call = object<Record<string, unknown>>(raw, 'call');
  const traceId = typeof call.traceId === 'string' ? { traceId: call.traceId } : {};
  switch (call.op) {
    case 'create':
      return sessions.create(who, object(call.request, 'request'), { ...traceId, signal });
    case 'get':
      return sessions.get(who, text(call.session, 'session'));
    case 'list':
      return sessions.list(who);
    case 'keepalive':
      return sessions.keepalive(who, text(call.session, 'session'));
    case 'remove':
      await sessions.remove(who, text(call.session, 'session'));
      return null;
    case 'execute':
      return sessions.execute(who, text(call.session, 'session'), object(call.request, 'request'), { ...traceId, signal });
    case 'runCode':
      return sessions.runCode(who, text(call.session, 'session'), object(call.request, 'request'), { signal });
    case 'putFile': {
      const mode = typeof call.mode === 'number' ? { mode: call.mode } : {};
      return sessions.putFile(who, text(call.session, 'session'), text(call.path, 'path'), Buffer.from(text(call.content_b64, 'content'), 'base64'), mode);
    }
    case 'getFile': {
      const found = await sessions.getFile(who, text(call.session, 'session'), text(call.path, 'path'));
      if ('entries' in found) return found;
      const { content, ...file } = found;
      return { ...file, content_b64: content.toString('base64') } satisfies WireFile;
    }
    case 'listFiles':
      return sessions.listFiles(who, text(call.session, 'session'), text(call.path, 'path'));
    case 'deleteFile':
      await sessions.deleteFile(who, text(call.session, 'session'), text(call.path, 'path'));
      return null;
    default:
      throw new RunnerError(ErrorCodes.INVALID_REQUEST, 'unknown session call');
  }
}

/** Sends one call to the parent and resolves with its answer; aborting `signal` cancels it there. */
export type SessionCaller = (owner: SessionOwner, call: SessionCall, signal?: AbortSignal) => Promise<unknown>;

/** Worker side: the sessions of the service in the parent process. */
export class RemoteSessions implements SessionService {
  readonly #call: SessionCaller;

  constructor(call: SessionCaller) {
    this.#call = call;
  }

  async create(owner: SessionOwner, request: SessionCreateRequest, options: SessionCallOptions = {}): Promise<SessionInfo> {
    return (await this.#call(owner, { op: 'create', request, ...trace(options) }, options.signal)) as SessionInfo;
  }

  async get(owner: SessionOwner, session: string): Promise<SessionInfo> {
    return (await this.#call(owner, { op: 'get', session })) as SessionInfo;
  }

  async list(owner: SessionOwner): Promise<SessionInfo[]> {
    return (await this.#call(owner, { op: 'list' })) as SessionInfo[];
  }

  async keepalive(owner: SessionOwner, session: string): Promise<SessionInfo> {
    return (await this.#call(owner, { op: 'keepalive', session })) as SessionInfo;
  }

  async remove(owner: SessionOwner, session: string): Promise<void> {
    await this.#call(owner, { op: 'remove', session });
  }

  async execute(owner: SessionOwner, session: string, request: SessionExecRequest, options: SessionCallOptions = {}): Promise<ExecutionResult> {
    return (await this.#call(owner, { op: 'execute', session, request, ...trace(options) }, options.signal)) as ExecutionResult;
  }

  async runCode(owner: SessionOwner, session: string, request: SessionCellRequest, options: SessionCallOptions = {}): Promise<CellResult> {
    return (await this.#call(owner, { op: 'runCode', session, request }, options.signal)) as CellResult;
  }

  async putFile(owner: SessionOwner, session: string, path: string, content: Buffer, options: { mode?: number } = {}): Promise<{ path: string; size: number }> {
    return (await this.#call(owner, { op: 'putFile', session, path, content_b64: content.toString('base64'), ...options })) as { path: string; size: number };
  }

  async getFile(owner: SessionOwner, session: string, path: string): Promise<SessionFile | SessionListing> {
    const found = (await this.#call(owner, { op: 'getFile', session, path })) as WireFile | SessionListing;
    if ('entries' in found) return found;
    const { content_b64, ...file } = found;
    return { ...file, content: Buffer.from(content_b64, 'base64') };
  }

  async listFiles(owner: SessionOwner, session: string, path: string): Promise<SessionListing> {
    return (await this.#call(owner, { op: 'listFiles', session, path })) as SessionListing;
  }

  async deleteFile(owner: SessionOwner, session: string, path: string): Promise<void> {
    await this.#call(owner, { op: 'deleteFile', session, path });
  }
}

function trace(options: SessionCallOptions): { traceId?: string } {
  return options.traceId ? { traceId: options.traceId } : {};
}
