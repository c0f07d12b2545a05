import { BadResponseError, ClientErrorCodes, ConnectionError, ServerError, errorFromReply } from './errors.js';
import { readEventStream } from './event-stream.js';

/** How the client reaches the server: what `new RunnerCodes(...)` takes. */
export interface RunnerCodesOptions {
  /** The server's address, e.g. `http://localhost:8080` (a path prefix is kept). */
  baseUrl: string | URL;
  /** Sent as `Authorization: Bearer <apiKey>` when the server has API keys. */
  apiKey?: string;
  /** The fetch to use (default: the global one), e.g. one with a proxy or a test double. */
  fetch?: typeof fetch;
  /** Headers sent with every request. */
  headers?: Record<string, string>;
}

export interface RequestOptions {
  /** Aborts the request (and, for a stream, stops reading it). */
  signal?: AbortSignal;
}

interface Call extends RequestOptions {
  method: string;
  path: string;
  query?: Record<string, string | undefined>;
  json?: unknown;
  body?: BodyInit;
  headers?: Record<string, string>;
}

const isJson = (response: Response): boolean => /^application\/(.+\+)?json\b/i.test(response.headers.get('content-type') ?? '');

/** HTTP to the API over fetch alone (no Node module), so the same code runs in Node 20+ and browsers. */
export class Transport {
  readonly #base: URL;
  readonly #fetch: typeof fetch;
  readonly #headers: Record<string, string>;

  constructor(options: RunnerCodesOptions) {
    const base = new URL(String(options.baseUrl));
    if (!base.pathname.endsWith('/')) base.pathname += '/';
    this.#base = base;
    const fetchImpl = options.fetch ?? globalThis.fetch;
    if (typeof fetchImpl !== 'function') throw new TypeError('no fetch: pass options.fetch (Node 20+ and browsers have one)');
    // A browser's fetch must be called on the global object.
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.#headers = { ...options.headers, ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}) };
  }

  /** Sends one request; a reply that is not 2xx becomes the RunnerCodesError subclass of its status. */
  async send(call: Call): Promise<Response> {
    const url = new URL(call.path.replace(/^\//, ''), this.#base);
    for (const [name, value] of Object.entries(call.query ?? {})) if (value !== undefined) url.searchParams.set(name, value);
    const headers: Record<string, string> = { ...this.#headers, ...(call.json !== undefined ? { 'content-type': 'application/json' } : {}), ...call.headers };
    const body = call.json !== undefined ? JSON.stringify(call.json) : call.body;
    let response: Response;
    try {
      response = await this.#fetch(url, { method: call.method, headers, ...(body !== undefined ? { body } : {}), ...(call.signal ? { signal: call.signal } : {}) });
    } catch (err) {
      if (call.signal?.aborted) throw err;
      throw new ConnectionError({ code: ClientErrorCodes.CONNECTION, message: `${call.method} ${url.pathname}: ${(err as Error)?.message ?? err}`, cause: err });
    }
    if (!response.ok) throw errorFromReply(response.status, response.headers, await this.#parsed(response).catch(() => undefined));
    return response;
  }

  /** Sends and parses the JSON reply. */
  async json<T>(call: Call): Promise<T> {
    return (await this.#parsed(await this.send(call))) as T;
  }

  /** Sends and expects no body (204). */
  async empty(call: Call): Promise<void> {
    await (await this.send(call)).body?.cancel();
  }

  /**
   * POSTs with `Accept: text/event-stream` and yields each event's name and parsed data as it
   * arrives. A server that answers with plain JSON instead (no streaming there) yields one `result`.
   * An `error` event is thrown as a ServerError; a stream that ends without `result` as a BadResponseError.
   */
  async *events(call: Call): AsyncGenerator<{ event: string; data: unknown }> {
    const response = await this.send({ ...call, headers: { ...call.headers, accept: 'text/event-stream' } });
    if (isJson(response) || !response.body) {
      yield { event: 'result', data: await this.#parsed(response) };
      return;
    }
    for await (const { event, data } of readEventStream(response.body)) {
      const parsed = this.#parse(data, response.status);
      if (event === 'error') {
        const { code, message } = (parsed as { error?: { code?: string; message?: string } }).error ?? {};
        throw new ServerError({ code: code ?? ClientErrorCodes.BAD_RESPONSE, message: message ?? 'the stream reported an error', status: response.status });
      }
      yield { event, data: parsed };
      if (event === 'result') return;
    }
    throw new BadResponseError({ code: ClientErrorCodes.BAD_RESPONSE, status: response.status, message: 'the event stream ended before its result' });
  }

  async #parsed(response: Response): Promise<unknown> {
    const text = await response.text();
    return text === '' ? null : this.#parse(text, response.status);
  }

  #parse(text: string, status: number): unknown {
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new BadResponseError({ code: ClientErrorCodes.BAD_RESPONSE, status, message: `HTTP ${status}: the reply is not JSON`, cause: err });
    }
  }
}
