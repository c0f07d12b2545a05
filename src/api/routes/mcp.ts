import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { DEFAULT_MCP_HTTP_OPTIONS, McpHttpEndpoint } from '../../mcp/http-endpoint.js';
import { ErrorBodySchema } from '../schemas/common.js';
import type { Api, RouteDeps } from '../types.js';
import { ownerOf } from './sessions.js';

const JsonRpc = Type.Unsafe<unknown>({ type: 'object', description: 'a JSON-RPC message (or batch) of the Model Context Protocol' });
const tags = ['mcp'];

/**
 * The MCP server over Streamable HTTP (docs/mcp.md): POST carries JSON-RPC messages, DELETE ends the
 * MCP session (Mcp-Session-Id). Registered like every keyed route, so the API key check and the rate
 * limit come first; sessions made through it belong to the key, as over REST.
 */
export async function mcpRoutes(app: Api, { service }: RouteDeps): Promise<void> {
  const endpoint = new McpHttpEndpoint(service, { ...DEFAULT_MCP_HTTP_OPTIONS, log: (message) => app.log.warn(message) });
  app.addHook('onClose', () => endpoint.close());

  const handler = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    // The SDK's transport writes the reply itself (JSON, or 4xx JSON-RPC errors).
    reply.hijack();
    try {
      await endpoint.handle(request.raw, reply.raw, request.body, ownerOf(request));
    } catch (err) {
      request.log.error({ err }, 'MCP request failed');
      if (!reply.raw.headersSent) reply.raw.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32603, message: 'internal error' }, id: null }));
    }
  };

  app.post(
    '/mcp',
    {
      schema: {
        operationId: 'mcpMessage',
        summary: 'Send MCP JSON-RPC messages (Streamable HTTP)',
        description: 'Start with `initialize` (no Mcp-Session-Id); send the Mcp-Session-Id it returns with every later message. Accept must list application/json and text/event-stream.',
        tags,
        response: { 200: JsonRpc, 202: Type.Null({ description: 'a notification or response, accepted' }), '4xx': ErrorBodySchema },
      },
    },
    handler,
  );
  // Answered 405 by the endpoint (no server-initiated stream); not in the OpenAPI document, being no operation.
  app.get('/mcp', { schema: { hide: true } }, handler);
  app.delete(
    '/mcp',
    {
      schema: {
        operationId: 'mcpEnd',
        summary: 'End an MCP session',
        description: 'Its sessions that were not created with keep_alive end too.',
        tags,
        response: { 200: Type.Null({ description: 'ended' }), '4xx': ErrorBodySchema },
      },
    },
    handler,
  );
}
