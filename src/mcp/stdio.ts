import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { Service } from '../engine/service.js';
import { ConnectionSessions } from './connection-sessions.js';
import { createMcpServer } from './server.js';

/** Every session over stdio has this owner: the process is one client's own server. */
export const STDIO_OWNER = 'mcp-stdio';

/**
 * Serves MCP over this process's stdin/stdout (what `infra.operator mcp` runs) until the client
 * closes stdin. Nothing but protocol goes to stdout; diagnostics go to `log` (stderr). Resolves
 * once the connection ended and its sessions are gone (a session cannot outlive this process,
 * whose service holds it, keep_alive or not).
 */
export async function serveStdio(service: Service, log: (message: string) => void): Promise<void> {
  const connection = new ConnectionSessions(service.sessions, STDIO_OWNER, log);
  const pending = new Set<Promise<unknown>>();
  const server = createMcpServer(service, connection, { log, pending });
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    // The SDK's stdio transport does not notice the end of stdin by itself. Calls already read are
    // answered first (`… | infra.operator mcp` gets every reply), then the connection closes.
    let ending = false;
    const end = (): void => {
      if (ending) return;
      ending = true;
      void (async () => {
        const settled = (): Promise<unknown> => new Promise((resolve) => setImmediate(resolve));
        // A call read last is dispatched a few microtasks later: look after those, then after each answer.
        for (await settled(); pending.size > 0; await settled()) await Promise.allSettled([...pending]);
        await server.close();
      })();
    };
    process.stdin.once('end', end).once('close', end);
  });
  await server.connect(transport);
  await closed;
  await connection.end();
}
