import { ErrorCodes, InvalidRequestError, RunnerError, type ErrorCode } from '../errors.js';

/** Where `infra.operator session` finds the server: --url, else RUNNER_CODES_URL, else a local `infra.operator api`. */
export const DEFAULT_SERVER_URL = 'http://127.0.0.1:8080';

export interface ServerTarget {
  url: string;
  apiKey?: string;
}

/**
 * The session routes of a running server (`infra.operator api`), for the CLI: a session lives in the
 * server, so it outlives the short-lived CLI process that made it. Error replies become the same
 * RunnerError they were in the server (same code, same field), so the CLI reports and exits for
 * them as for its own.
 */
export class SessionClient {
  readonly #base: string;
  readonly #headers: Record<string, string>;

  constructor(target: ServerTarget) {
    let base: URL;
    try {
      base = new URL(target.url);
    } catch {
      throw new InvalidRequestError('--url', `'${target.url}' is not a URL (e.g. ${DEFAULT_SERVER_URL})`);
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new InvalidRequestError('--url', 'must be an http:// or https:// URL');
    this.#base = base.href.replace(/\/$/, '');
    this.#headers = target.apiKey ? { authorization: `Bearer ${target.apiKey}` } : {};
  }

  /** A JSON call; resolves with the parsed reply (null for 204). */
  async json(method: string, path: string, body?: unknown): Promise<any> {
    const reply = await this.#send(method, path, body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    if (reply.status === 204) return null;
    return reply.json();
  }

  /** A call whose reply is raw bytes (a file), or JSON when the path is a directory. */
  async bytes(path: string): Promise<{ json: unknown } | { bytes: Buffer }> {
    const reply = await this.#send('GET', path, {});
    if ((reply.headers.get('content-type') ?? '').startsWith('application/json')) return { json: await reply.json() };
    return { bytes: Buffer.from(await reply.arrayBuffer()) };
  }

  /** PUT of raw bytes. */
  async put(path: string, content: Buffer): Promise<any> {
    return (await this.#send('PUT', path, { body: new Blob([new Uint8Array(content)]), headers: { 'content-type': 'application/octet-stream' } })).json();
  }

  async #send(method: string, path: string, init: { body?: string | Blob; headers?: Record<string, string> }): Promise<Response> {
    let reply: Response;
    try {
      reply = await fetch(`${this.#base}${path}`, { method, headers: { ...this.#headers, ...(init.headers ?? {}) }, ...(init.body !== undefined ? { body: init.body } : {}) });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string; errors?: { code?: string }[] } }).cause;
      const why = cause?.code ?? cause?.errors?.[0]?.code ?? cause?.message ?? (err as Error).message;
      throw new RunnerError(ErrorCodes.HOST_DEPENDENCY, `cannot reach the server at ${this.#base} (${why})`, {
        hint: 'sessions live in a running server: start one with `infra.operator api`, or point --url (RUNNER_CODES_URL) at one',
      });
    }
    if (reply.ok) return reply;
    const body = (await reply.json().catch(() => null)) as { error?: { code?: string; message?: string; field?: string } } | null;
    const error = body?.error;
    if (!error?.code) throw new RunnerError(ErrorCodes.INTERNAL, `the server answered ${reply.status} without an error body`);
    if (error.field !== undefined) {
      const prefix = `${error.field}: `;
      const message = error.message?.startsWith(prefix) ? error.message.slice(prefix.length) : (error.message ?? '');
      throw new InvalidRequestError(error.field, message, error.code as ErrorCode);
    }
    throw new RunnerError(error.code as ErrorCode, error.message ?? `HTTP ${reply.status}`);
  }
}
