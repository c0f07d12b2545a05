import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { Service } from '../engine/service.js';
import type { SessionOwner } from '../engine/sessions/session-service.js';
import { ConnectionSessions } from './connection-sessions.js';
import { createMcpServer } from './server.js';

export interface McpHttpOptions {
  /** A connection unused this long ends, and with it its sessions that were not kept alive. */
  idleMs: number;
  /** Most MCP connections open at once (over every API key). */
  maxConnections: number;
  /** Most of them one API key may hold (so that one key cannot take them all). */
  maxPerOwner: number;
  log: (message: string) => void;
}

export const DEFAULT_MCP_HTTP_OPTIONS: Omit<McpHttpOptions, 'log'> = { idleMs: 10 * 60_000, maxConnections: 256, maxPerOwner: 32 };

/** How often idle connections are looked for. */
const SWEEP_MS = 30_000;

interface Connection {
  transport: StreamableHTTPServerTransport;
  sessions: ConnectionSessions;
  /** Requests being answered now: a connection is idle only when none is. */
  open: number;
  lastUsed: number;
}

/** A JSON-RPC error reply for a request the transport never sees. */
function refuse(res: ServerResponse, status: number, code: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }));
}

/**
 * MCP over Streamable HTTP (the SDK's transport, stateful: one MCP session per `initialize`, named by
 * the Mcp-Session-Id header), for the API server's /mcp route, which checks the API key first. A
 * connection belongs to the key that opened it: another key's requests find no such connection.
 * It ends on DELETE, after `idleMs` unused, or at close(); its sessions not kept alive end with it.
 */
export class McpHttpEndpoint {
  readonly #service: Service;
  readonly #options: McpHttpOptions;
  readonly #connections = new Map<string, Connection & { owner: SessionOwner }>();
  readonly #sweeper: NodeJS.Timeout;

  constructor(service: Service, options: McpHttpOptions) {
    this.#service = service;
    this.#options = options;
    this.#sweeper = setInterval(() => this.#sweep(), Math.min(SWEEP_MS, options.idleMs)).unref();
  }

  /** Answers one HTTP request to the endpoint; `body` is the parsed JSON of a POST. */
  async handle(req: IncomingMessage, res: ServerResponse, body: unknown, owner: SessionOwner): Promise<void> {
    // No server-initiated stream (a GET's SSE would hold a connection busy forever): every answer comes with its POST.
    if (req.method === 'GET') {
      res.setHeader('allow', 'POST, DELETE');
      return refuse(res, 405, -32000, 'Method not allowed: this server sends no stream; POST messages');
    }
    const header = req.headers['mcp-session-id'];
    const id = typeof header === 'string' ? header : undefined;
    const found = id === undefined ? undefined : this.#connections.get(id);
    if (found && found.owner === owner) {
      found.open++;
      found.lastUsed = Date.now();
      res.once('close', () => {
        found.open--;
        found.lastUsed = Date.now();
      });
      await found.transport.handleRequest(req, res, body);
      return;
    }
    // Another key's connection is as unknown as one that never was.
    if (id !== undefined) return refuse(res, 404, -32001, 'MCP session not found: it ended (deleted or idle); initialize a new one');
    if (req.method !== 'POST' || !isInitializeRequest(body)) return refuse(res, 400, -32000, 'Bad Request: send initialize first, then the Mcp-Session-Id header it returned');
    const { maxConnections, maxPerOwner } = this.#options;
    if (this.#connections.size >= maxConnections) return refuse(res, 429, -32000, `too many MCP connections on this server (at most ${maxConnections}); retry later`);
    const owned = [...this.#connections.values()].filter((connection) => connection.owner === owner).length;
    if (owned >= maxPerOwner) return refuse(res, 429, -32000, `this API key holds ${owned} MCP connections, the most it may: end one (DELETE /mcp with its Mcp-Session-Id) or let one idle out`);
    await (await this.#open(owner)).handleRequest(req, res, body);
  }

  /** Ends every connection and its sessions. */
  async close(): Promise<void> {
    clearInterval(this.#sweeper);
    await Promise.all([...this.#connections.values()].map((connection) => this.#end(connection)));
  }

  async #open(owner: SessionOwner): Promise<StreamableHTTPServerTransport> {
    const { log } = this.#options;
    const sessions = new ConnectionSessions(this.#service.sessions, owner, log);
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      enableJsonResponse: true,
      onsessioninitialized: (id) => {
        this.#connections.set(id, { transport, sessions, owner, open: 0, lastUsed: Date.now() });
      },
    });
    transport.onclose = () => {
      if (transport.sessionId !== undefined) this.#connections.delete(transport.sessionId);
      void sessions.end();
    };
    await createMcpServer(this.#service, sessions, { log }).connect(transport);
    return transport;
  }

  async #end(connection: Connection): Promise<void> {
    await connection.transport.close();
    await connection.sessions.end();
  }

  #sweep(): void {
    const cutoff = Date.now() - this.#options.idleMs;
    for (const connection of this.#connections.values()) {
      if (connection.open === 0 && connection.lastUsed < cutoff) void this.#end(connection);
    }
  }
}
