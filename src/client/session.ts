import { BadResponseError, ClientErrorCodes } from './errors.js';
import { executionEvents } from './execution-events.js';
import type { RequestOptions, Transport } from './transport.js';
import type { CellResult, ExecutionEvent, ExecutionResult, FileList, FileWritten, RunCodeRequest, SessionExecuteRequest, SessionInfo } from './types.js';

/** A file's content as the client takes it: text (written as UTF-8) or bytes. */
export type FileContent = string | Uint8Array | ArrayBuffer | Blob;

/** Base64 of bytes with what browsers and Node share (btoa), in chunks that fit an argument list. */
function base64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** The files of a session's work directory; paths are relative to it (docs/api.md, "Files"). */
export class SessionFiles {
  readonly #transport: Transport;
  readonly #path: string;

  constructor(transport: Transport, sessionPath: string) {
    this.#transport = transport;
    this.#path = `${sessionPath}/files`;
  }

  /** Writes a file (missing directories are made, an existing file replaced); `mode` sets its permission bits. */
  async write(path: string, content: FileContent, options: RequestOptions & { mode?: number } = {}): Promise<FileWritten> {
    const { mode, signal } = options;
    const call = { method: 'PUT', path: this.#path, query: { path }, ...(signal ? { signal } : {}) };
    if (mode === undefined) {
      const body = typeof content === 'string' ? new TextEncoder().encode(content) : content;
      return this.#transport.json({ ...call, body: body as BodyInit, headers: { 'content-type': 'application/octet-stream' } });
    }
    const json =
      typeof content === 'string'
        ? { content, encoding: 'utf8', mode }
        : { content: base64(new Uint8Array(content instanceof Blob ? await content.arrayBuffer() : content)), encoding: 'base64', mode };
    return this.#transport.json({ ...call, json });
  }

  /** A file's bytes. */
  async read(path: string, options: RequestOptions = {}): Promise<Uint8Array> {
    const response = await this.#transport.send({ method: 'GET', path: this.#path, query: { path }, ...options });
    // The server marks a file's bytes with its mode; without it, the reply is a directory's listing.
    if (response.headers.get('x-file-mode') === null) {
      await response.body?.cancel();
      throw new BadResponseError({ code: ClientErrorCodes.BAD_RESPONSE, status: response.status, message: `${path} is a directory: list it with files.list()` });
    }
    return new Uint8Array(await response.arrayBuffer());
  }

  /** A file's content as UTF-8 text. */
  async readText(path: string, options: RequestOptions = {}): Promise<string> {
    return new TextDecoder().decode(await this.read(path, options));
  }

  /** The entries below a directory (default: the work directory), recursively; symbolic links listed, never followed. */
  async list(path = '', options: RequestOptions = {}): Promise<FileList> {
    return this.#transport.json({ method: 'GET', path: this.#path, query: { path: path === '' ? undefined : path }, ...options });
  }

  /** Deletes a file, or a directory with everything in it (a symbolic link itself, never its target). */
  async remove(path: string, options: RequestOptions = {}): Promise<void> {
    await this.#transport.empty({ method: 'DELETE', path: this.#path, query: { path }, ...options });
  }
}

/** A sandbox that lives across calls (POST /api/v1/sessions): files and processes persist in it until it is closed or expires. */
export class Session {
  readonly id: string;
  /** What the server said when the session was created or last described (refresh with `describe()`). */
  info: SessionInfo;
  readonly files: SessionFiles;
  readonly #transport: Transport;
  readonly #path: string;

  constructor(transport: Transport, info: SessionInfo) {
    this.#transport = transport;
    this.id = info.id;
    this.info = info;
    this.#path = `api/v1/sessions/${encodeURIComponent(info.id)}`;
    this.files = new SessionFiles(transport, this.#path);
  }

  /** Runs `code` (a program of the session's language) or `command` (an argv, no shell) in the session. */
  async execute(request: SessionExecuteRequest, options: RequestOptions = {}): Promise<ExecutionResult> {
    return this.#transport.json({ method: 'POST', path: `${this.#path}/execute`, json: request, ...options });
  }

  /** As `execute`, streamed: the execution's events as they happen, its result last. */
  executeStream(request: SessionExecuteRequest, options: RequestOptions = {}): AsyncGenerator<ExecutionEvent> {
    return executionEvents(this.#transport.events({ method: 'POST', path: `${this.#path}/execute`, json: request, ...options }));
  }

  /** Runs one cell in the session's interpreter kernel: variables, imports and functions persist between cells. */
  async runCode(code: string, options: RequestOptions & Omit<RunCodeRequest, 'code'> = {}): Promise<CellResult> {
    const { timeout, signal } = options;
    return this.#transport.json({ method: 'POST', path: `${this.#path}/run_code`, json: { code, ...(timeout !== undefined ? { timeout } : {}) }, ...(signal ? { signal } : {}) });
  }

  /** Resets the idle deadline (never past the absolute one). */
  async keepalive(options: RequestOptions = {}): Promise<SessionInfo> {
    return (this.info = await this.#transport.json({ method: 'POST', path: `${this.#path}/keepalive`, ...options }));
  }

  /** The session as the server sees it now (its deadlines, running executions). */
  async describe(options: RequestOptions = {}): Promise<SessionInfo> {
    return (this.info = await this.#transport.json({ method: 'GET', path: this.#path, ...options }));
  }

  /** Ends the session at once: its sandbox, processes and files are destroyed. */
  async close(options: RequestOptions = {}): Promise<void> {
    await this.#transport.empty({ method: 'DELETE', path: this.#path, ...options });
  }
}
