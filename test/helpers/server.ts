import { after } from 'node:test';
import assert from 'node:assert/strict';
import { defaultApiConfig, type ApiConfig } from '../../src/api/config.js';
import { startServer, type RunningServer } from '../../src/api/server.js';
import type { AppOptions } from '../../src/api/app.js';
import { NOTHING_LEFT, leftovers } from './host.js';

/**
 * A real API server on loopback (port 0) over the real engine, closed after the file's tests,
 * which then asserts that no sandbox was left behind.
 */
export async function testServer(overrides: Partial<ApiConfig> = {}, options: AppOptions = { logger: false }): Promise<RunningServer & { base: string }> {
  const server = await startServer({ ...defaultApiConfig(), port: 0, host: '127.0.0.1', logLevel: 'silent', backend: 'bwrap', ...overrides }, options);
  after(async () => {
    await server.close();
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(leftovers(), NOTHING_LEFT);
  });
  return { ...server, base: server.url };
}

export interface Reply {
  status: number;
  headers: Headers;
  body: any;
}

/** POST JSON (or a raw string/buffer body) and parse the JSON reply. */
export async function post(base: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const raw = typeof body === 'string' ? body : Buffer.isBuffer(body) ? new Uint8Array(body) : JSON.stringify(body);
  const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: raw });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}

export async function get(base: string, path: string, headers: Record<string, string> = {}): Promise<Reply & { text: string }> {
  const res = await fetch(`${base}${path}`, { headers });
  const text = await res.text();
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON (metrics, docs)
  }
  return { status: res.status, headers: res.headers, body, text };
}
