import assert from 'node:assert/strict';

export interface SessionReply {
  status: number;
  headers: Headers;
  /** Parsed JSON, or null (204, raw bytes). */
  body: any;
  bytes: Buffer;
}

/** The session routes of a test server, as one API key (or none) sees them. */
export class SessionApi {
  readonly #base: string;
  readonly #headers: Record<string, string>;

  constructor(base: string, key?: string) {
    this.#base = base;
    this.#headers = key ? { authorization: `Bearer ${key}` } : {};
  }

  async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<SessionReply> {
    const raw = body === undefined ? undefined : Buffer.isBuffer(body) ? new Blob([new Uint8Array(body)]) : JSON.stringify(body);
    const type: Record<string, string> = body === undefined ? {} : Buffer.isBuffer(body) ? { 'content-type': 'application/octet-stream' } : { 'content-type': 'application/json' };
    const res = await fetch(`${this.#base}${path}`, { method, headers: { ...this.#headers, ...type, ...headers }, ...(raw !== undefined ? { body: raw } : {}) });
    const bytes = Buffer.from(await res.arrayBuffer());
    const json = (res.headers.get('content-type') ?? '').startsWith('application/json') && bytes.length > 0 ? JSON.parse(bytes.toString('utf8')) : null;
    return { status: res.status, headers: res.headers, body: json, bytes };
  }

  /** Creates a session; asserts the 201. */
  async create(body: Record<string, unknown>): Promise<string> {
    const reply = await this.request('POST', '/api/v1/sessions', body);
    assert.equal(reply.status, 201, JSON.stringify(reply.body));
    return reply.body.id as string;
  }

  execute(id: string, body: Record<string, unknown>): Promise<SessionReply> {
    return this.request('POST', `/api/v1/sessions/${id}/execute`, body);
  }

  /** Executes and asserts a successful result; returns it. */
  async run(id: string, body: Record<string, unknown>): Promise<any> {
    const reply = await this.execute(id, body);
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
    assert.equal(reply.body.status, 'success', JSON.stringify(reply.body));
    return reply.body;
  }

  put(id: string, path: string, content: Buffer | Record<string, unknown>): Promise<SessionReply> {
    return this.request('PUT', `/api/v1/sessions/${id}/files?path=${encodeURIComponent(path)}`, content);
  }

  file(id: string, path?: string): Promise<SessionReply> {
    return this.request('GET', `/api/v1/sessions/${id}/files${path === undefined ? '' : `?path=${encodeURIComponent(path)}`}`);
  }

  deleteFile(id: string, path: string): Promise<SessionReply> {
    return this.request('DELETE', `/api/v1/sessions/${id}/files?path=${encodeURIComponent(path)}`);
  }

  get(id: string): Promise<SessionReply> {
    return this.request('GET', `/api/v1/sessions/${id}`);
  }

  list(): Promise<SessionReply> {
    return this.request('GET', '/api/v1/sessions');
  }

  remove(id: string): Promise<SessionReply> {
    return this.request('DELETE', `/api/v1/sessions/${id}`);
  }
}
