import type { LimitRequest } from '../limits.js';
import type { SubmittedFile } from '../request.js';
import type { CellResult } from '../kernel.js';
import type { ExecutionResult } from '../result.js';

/** Who owns a session: the API key's id (or one shared owner on a server without keys). Only its owner sees it. */
export type SessionOwner = string;

/** What a caller asks for when it opens a session. */
export interface SessionCreateRequest {
  /** Language id or alias: the session's image and what `code` runs as (default: the interpreter sessions' data-science python). */
  language?: string;
  limits?: LimitRequest;
  /** Idle time after which the session ends (default 5 min, at most the server's maximum). */
  idleTimeoutMs?: number;
  /** Absolute lifetime from creation (default and maximum: the server's). */
  lifetimeMs?: number;
  /** Environment every execution of the session starts with. */
  env?: Record<string, string>;
  /** Files written into the work directory before the session is handed out. */
  files?: SubmittedFile[];
  /** Isolation backend, among those the service offers (default: its default). */
  backend?: string;
}

/** One execution in a session: `code` (a program of the session's language) or `command` (an argv). */
export interface SessionExecRequest {
  code?: string;
  command?: string[];
  /** Written into the work directory (replacing files of the same path) before the execution. */
  files?: SubmittedFile[];
  stdin?: string;
  args?: string[];
  env?: Record<string, string>;
  /** Run-stage wall-clock limit, ms (default: the session's). */
  timeoutMs?: number;
  outputEncoding?: 'utf8' | 'base64';
}

/** One interpreter cell: code of the session's kernel language, state kept between cells. */
export interface SessionCellRequest {
  code: string;
  /** The cell's wall-clock limit, ms (default: the session's run timeout); past it the cell is interrupted. */
  timeoutMs?: number;
}

/** A session as callers see it. Times are ISO 8601. */
export interface SessionInfo {
  id: string;
  language: string;
  /** The isolation backend it runs on. */
  backend: string;
  version: string | null;
  created_at: string;
  /** When the session ends unless it is used (or kept alive) before: the sooner of its idle and absolute deadlines. */
  expires_at: string;
  /** Its absolute end, whatever happens. */
  max_expires_at: string;
  idle_timeout_ms: number;
  last_used_at: string;
  /** Executions running in it now. */
  running: number;
  /** Its memory limit, charged to the server's session memory budget while it lives. */
  memory_bytes: number;
}

/** One entry of a work-directory listing. */
export interface SessionFileEntry {
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'other';
  size: number;
  mode: number;
  mtime_ms: number;
}

export interface SessionFile {
  content: Buffer;
  size: number;
  mode: number;
  mtime_ms: number;
}

/** A directory's entries, recursively, sorted by path. */
export interface SessionListing {
  entries: SessionFileEntry[];
  /** The listing was cut at the server's most entries. */
  truncated: boolean;
}

export interface SessionCallOptions {
  traceId?: string;
  /** Aborting kills the execution's processes; the session lives on. */
  signal?: AbortSignal;
}

/**
 * Sandboxes that live across calls, as every edge sees them (HTTP routes, the IPC client of the
 * privilege-separated server). Every method takes the caller's owner: a session of another owner
 * does not exist for it (RC_ERR_NOT_FOUND, never a hint that it exists).
 */
export interface SessionService {
  create(owner: SessionOwner, request: SessionCreateRequest, options?: SessionCallOptions): Promise<SessionInfo>;
  get(owner: SessionOwner, id: string): Promise<SessionInfo>;
  list(owner: SessionOwner): Promise<SessionInfo[]>;
  /** Resets the idle deadline (never past the absolute one). */
  keepalive(owner: SessionOwner, id: string): Promise<SessionInfo>;
  /** Ends the session at once: its sandbox and every process in it are destroyed. */
  remove(owner: SessionOwner, id: string): Promise<void>;
  execute(owner: SessionOwner, id: string, request: SessionExecRequest, options?: SessionCallOptions): Promise<ExecutionResult>;
  /** Runs a cell in the session's interpreter kernel (started on the first cell). */
  runCode(owner: SessionOwner, id: string, request: SessionCellRequest, options?: SessionCallOptions): Promise<CellResult>;
  putFile(owner: SessionOwner, id: string, path: string, content: Buffer, options?: { mode?: number }): Promise<{ path: string; size: number }>;
  /** The file at `path`, or the listing when it is a directory. */
  getFile(owner: SessionOwner, id: string, path: string): Promise<SessionFile | SessionListing>;
  /** `path` '' is the work directory. */
  listFiles(owner: SessionOwner, id: string, path: string): Promise<SessionListing>;
  deleteFile(owner: SessionOwner, id: string, path: string): Promise<void>;
}
