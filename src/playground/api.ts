import { EventSourceParserStream } from 'eventsource-parser/stream';

/** The API key, if the server needs one: kept for this tab only (sessionStorage), sent as a bearer token. */
const KEY_STORAGE = 'runner-codes.api-key';

export function apiKey(): string {
  return sessionStorage.getItem(KEY_STORAGE) ?? '';
}

export function setApiKey(key: string): void {
  if (key) sessionStorage.setItem(KEY_STORAGE, key);
  else sessionStorage.removeItem(KEY_STORAGE);
}

/** An error answer of the API (docs/errors.md): its status, stable code, message and the field it names. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(field && !message.startsWith(`${field}:`) ? `${field}: ${message}` : message);
  }

  get needsKey(): boolean {
    return this.status === 401;
  }
}

async function errorOf(res: Response): Promise<ApiError> {
  const body = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string; field?: string } } | null;
  const error = body?.error;
  return new ApiError(res.status, error?.code ?? `HTTP ${res.status}`, error?.message ?? res.statusText, error?.field);
}

interface RequestOptions {
  json?: unknown;
  body?: Blob;
  accept?: string;
  /** The request outlives the page (ending a session as the tab closes). */
  keepalive?: boolean;
}

/** One call of this server's API (paths are relative: the page may sit behind a path prefix). */
export async function call(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
  const headers = new Headers();
  const key = apiKey();
  if (key) headers.set('authorization', `Bearer ${key}`);
  if (options.accept) headers.set('accept', options.accept);
  let body: BodyInit | undefined = options.body;
  if (options.json !== undefined) {
    headers.set('content-type', 'application/json');
    body = JSON.stringify(options.json);
  } else if (options.body) headers.set('content-type', 'application/octet-stream');
  const res = await fetch(path, { method, headers, keepalive: options.keepalive ?? false, ...(body !== undefined ? { body } : {}) });
  if (!res.ok) throw await errorOf(res);
  return res;
}

export async function callJson<T>(method: string, path: string, json?: unknown): Promise<T> {
  const res = await call(method, path, json === undefined ? {} : { json });
  return (res.status === 204 ? undefined : await res.json()) as T;
}

/** What the playground reads of the result object (docs/architecture.md, "The result object"). */
export interface StageResult {
  stdout: string;
  stderr: string;
  exit_code: number | null;
  signal: string | null;
  timed_out: boolean;
  oom_killed: boolean;
  truncated: { stdout: boolean; stderr: boolean };
}
export interface OutputFile {
  path: string;
  size: number;
  mime: string;
  content_b64: string;
  truncated: boolean;
}
export interface ExecutionResult extends StageResult {
  status: 'success' | 'failed';
  language: string;
  version: string | null;
  error?: { code: string; message: string };
  timings: { load_ms: number; compile_ms: number; exec_ms: number; total_ms: number };
  cpu_time_ms?: number;
  memory_peak_bytes?: number;
  outputs?: OutputFile[];
  outputs_truncated?: boolean;
  compile?: StageResult;
}

export interface ExecutionHandlers {
  onStage(stage: string): void;
  onOutput(stream: 'stdout' | 'stderr', text: string): void;
}

/**
 * Runs an execution (POST /api/v1/execute or a session's execute), asking for Server-Sent Events:
 * `stage`, `stdout`/`stderr` ({seq, data}) while it runs, then `result`. A server that answers
 * plain JSON instead (no streaming there) gives the result at once; `streamed` says which it was.
 * EventSource cannot POST, so the stream is read from fetch's body.
 */
export async function execute(path: string, request: unknown, handlers: ExecutionHandlers): Promise<{ result: ExecutionResult; streamed: boolean }> {
  const res = await call('POST', path, { json: request, accept: 'text/event-stream, application/json;q=0.5' });
  if (!res.headers.get('content-type')?.startsWith('text/event-stream')) return { result: (await res.json()) as ExecutionResult, streamed: false };
  const reader = res.body!.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream()).getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new ApiError(res.status, 'STREAM_CUT', 'the event stream ended before the result');
    const data = JSON.parse(value.data);
    if (value.event === 'stage') handlers.onStage(data.stage);
    else if (value.event === 'stdout' || value.event === 'stderr') handlers.onOutput(value.event, data.data);
    else if (value.event === 'result') {
      await reader.cancel();
      return { result: data as ExecutionResult, streamed: true };
    } else if (value.event === 'error') throw new ApiError(res.status, data.error.code, data.error.message);
  }
}

export interface Language {
  id: string;
  name: string;
  version: string | null;
  installed: boolean;
}

export interface SessionInfo {
  id: string;
  language: string;
  version: string | null;
  expires_at: string;
}

export interface FileEntry {
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'other';
  size: number;
}

/** One cell's result (docs/kernels.md). */
export interface CellResult {
  stdout: string;
  stderr: string;
  stdout_truncated?: boolean;
  stderr_truncated?: boolean;
  error: { name: string; message: string; traceback: string } | null;
  outputs: Record<string, string>[];
  timed_out: boolean;
  duration_ms: number;
}
