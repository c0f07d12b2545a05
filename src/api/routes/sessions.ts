import { Type } from 'typebox';
import type { FastifyRequest } from 'fastify';
import { ExecutionResultSchema } from '../../engine/result-schema.js';
import type { SessionCreateRequest, SessionExecRequest, SessionListing, SessionOwner } from '../../engine/sessions/session-service.js';
import { decodeContent } from '../../engine/request.js';
import { disconnectSignal } from '../disconnect.js';
import { contentTypeOf } from '../file-types.js';
import { statusOf } from '../http-errors.js';
import { ErrorBodySchema } from '../schemas/common.js';
import {
  CellBodySchema, CellResultSchema, FileContentBodySchema, FileListSchema, FilePathQuery, FileWrittenSchema, OptionalFilePathQuery, SessionCreateBodySchema, SessionExecBodySchema,
  SessionIdParams, SessionListSchema, SessionSchema, type SessionCreateBody, type SessionExecBody,
} from '../schemas/sessions.js';
import type { Api, RouteDeps } from '../types.js';
import { limitRequest } from './execute.js';

/** On a server without API keys every caller is this one owner. */
const NO_KEY_OWNER = 'anonymous';

/** The caller's sessions are its API key's: another key's do not exist for it. */
export const ownerOf = (request: FastifyRequest): SessionOwner => request.apiKeyId ?? NO_KEY_OWNER;

const errors = { '4xx': ErrorBodySchema, '5xx': ErrorBodySchema };
const tags = ['sessions'];

function toCreateRequest(body: SessionCreateBody): SessionCreateRequest {
  return {
    ...(body.language !== undefined ? { language: body.language } : {}),
    ...(body.limits ? { limits: limitRequest(body.limits) } : {}),
    ...(body.idle_timeout_ms !== undefined ? { idleTimeoutMs: body.idle_timeout_ms } : {}),
    ...(body.lifetime_ms !== undefined ? { lifetimeMs: body.lifetime_ms } : {}),
    ...(body.env ? { env: body.env } : {}),
    ...(body.files ? { files: body.files } : {}),
    ...(body.backend ? { backend: body.backend } : {}),
  };
}

function toExecRequest(body: SessionExecBody): SessionExecRequest {
  const { timeout, output_encoding, ...rest } = body;
  return { ...rest, ...(timeout !== undefined ? { timeoutMs: timeout } : {}), ...(output_encoding ? { outputEncoding: output_encoding } : {}) };
}

function listing(path: string, { entries, truncated }: SessionListing) {
  return { path, truncated, entries: entries.map(({ mtime_ms, ...entry }) => ({ ...entry, mtime: new Date(mtime_ms).toISOString() })) };
}

/** Sandboxes that live across calls: create, inspect, execute in, move files in and out, end (docs/api.md, "Sessions"). */
export async function sessionRoutes(app: Api, { service, config }: RouteDeps): Promise<void> {
  const { sessions } = service;
  const idParams = { params: SessionIdParams };

  app.post(
    '/api/v1/sessions',
    {
      schema: {
        operationId: 'createSession',
        summary: 'Start a session: a sandbox that stays up between calls',
        description: 'Files and processes persist inside it between calls until it is deleted, idle past `idle_timeout_ms`, or past its lifetime. 429 past the per-key or server caps.',
        tags,
        body: SessionCreateBodySchema,
        response: { 201: SessionSchema, ...errors },
      },
    },
    async (request, reply) => {
      const session = await sessions.create(ownerOf(request), toCreateRequest(request.body), { traceId: request.id, signal: disconnectSignal(reply) });
      reply.code(201);
      return session;
    },
  );

  app.get(
    '/api/v1/sessions',
    { schema: { operationId: 'listSessions', summary: "The caller's live sessions", tags, response: { 200: SessionListSchema, ...errors } } },
    async (request) => ({ sessions: await sessions.list(ownerOf(request)) }),
  );

  app.get(
    '/api/v1/sessions/:id',
    { schema: { operationId: 'getSession', summary: 'One of the caller\'s sessions', tags, ...idParams, response: { 200: SessionSchema, ...errors } } },
    async (request) => sessions.get(ownerOf(request), request.params.id),
  );

  app.delete(
    '/api/v1/sessions/:id',
    {
      schema: {
        operationId: 'deleteSession',
        summary: 'End a session at once',
        description: 'Its sandbox, every process and every file in it are destroyed.',
        tags,
        ...idParams,
        response: { 204: Type.Null({ description: 'ended' }), ...errors },
      },
    },
    async (request, reply) => {
      await sessions.remove(ownerOf(request), request.params.id);
      reply.code(204).send(null);
    },
  );

  app.post(
    '/api/v1/sessions/:id/keepalive',
    { schema: { operationId: 'keepSessionAlive', summary: 'Reset the idle deadline (never past the absolute one)', tags, ...idParams, response: { 200: SessionSchema, ...errors } } },
    async (request) => sessions.keepalive(ownerOf(request), request.params.id),
  );

  app.post(
    '/api/v1/sessions/:id/execute',
    {
      schema: {
        operationId: 'executeInSession',
        summary: 'Run code or a command in a session',
        description: 'The same result object as /api/v1/execute. `code` runs as a program of the session\'s language (compiled languages compile in the session); `command` runs an argv in the session\'s image.',
        tags,
        ...idParams,
        body: SessionExecBodySchema,
        response: { 200: ExecutionResultSchema, '4xx': ErrorBodySchema, '5xx': Type.Union([ExecutionResultSchema, ErrorBodySchema]) },
      },
    },
    async (request, reply) => {
      const result = await sessions.execute(ownerOf(request), request.params.id, toExecRequest(request.body), { traceId: request.id, signal: disconnectSignal(reply) });
      if (result.error) reply.code(statusOf(result.error.code));
      return result;
    },
  );

  app.post(
    '/api/v1/sessions/:id/run_code',
    {
      schema: {
        operationId: 'runCodeInSession',
        summary: "Run a cell in the session's interpreter kernel (python, javascript, python-datascience)",
        description: 'Like a notebook: variables, imports and functions persist between cells. Rich outputs come back as MIME bundles: a matplotlib figure as `image/png`, the last expression\'s value as `text/plain` (and `text/html` for a pandas DataFrame). An interrupted or timed-out cell leaves the session usable.',
        tags,
        ...idParams,
        body: CellBodySchema,
        response: { 200: CellResultSchema, ...errors },
      },
    },
    async (request, reply) => {
      const { code, timeout } = request.body;
      return sessions.runCode(ownerOf(request), request.params.id, { code, ...(timeout !== undefined ? { timeoutMs: timeout } : {}) }, { traceId: request.id, signal: disconnectSignal(reply) });
    },
  );

  app.put(
    '/api/v1/sessions/:id/files',
    {
      // A file may be as large as the per-file cap, base64 in JSON a third more.
      bodyLimit: Math.max(config.bodyLimit, Math.ceil(config.sessionMaxFileBytes * 1.34) + 1024),
      config: { rawBody: true },
      schema: {
        operationId: 'putSessionFile',
        summary: 'Write a file into the session\'s work directory',
        description: 'The body is the file\'s bytes (`application/octet-stream`, or any type but JSON), or JSON `{content, encoding?, mode?}`. Missing directories are created; an existing file is replaced; a path through a symbolic link is refused (400).',
        tags,
        ...idParams,
        querystring: FilePathQuery,
        body: {
          content: {
            'application/json': { schema: FileContentBodySchema },
            'application/octet-stream': { schema: Type.Unsafe<Buffer>({ description: "the file's bytes" }) },
          },
        },
        response: { 200: FileWrittenSchema, ...errors },
      },
    },
    async (request) => {
      const body = request.body as Buffer | { content: string; encoding?: 'utf8' | 'base64'; mode?: number };
      const content = Buffer.isBuffer(body) ? body : decodeContent({ name: request.query.path, content: body.content, ...(body.encoding ? { encoding: body.encoding } : {}) }, 'body');
      const mode = !Buffer.isBuffer(body) && body.mode !== undefined ? { mode: body.mode } : {};
      return sessions.putFile(ownerOf(request), request.params.id, request.query.path, content, mode);
    },
  );

  app.get(
    '/api/v1/sessions/:id/files',
    {
      schema: {
        operationId: 'getSessionFile',
        summary: 'Read a file (its bytes) or list a directory',
        description: 'With `path` naming a file: its bytes, Content-Type guessed from the extension. Without `path`, or naming a directory: the entries below it, recursively (symbolic links are listed, never followed).',
        tags,
        ...idParams,
        querystring: OptionalFilePathQuery,
        response: {
          200: {
            description: 'the file, or the listing',
            content: {
              'application/json': { schema: FileListSchema },
              'application/octet-stream': { schema: Type.Unsafe<Buffer>({ type: 'string', format: 'binary' }) },
            },
          },
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const owner = ownerOf(request);
      const path = request.query.path ?? '';
      const found = path === '' ? await sessions.listFiles(owner, request.params.id, '') : await sessions.getFile(owner, request.params.id, path);
      if ('entries' in found) return listing(path, found);
      // SECURITY: the bytes are the sandboxed program's: a browser must not run them as this origin's page.
      reply.header('content-type', contentTypeOf(path)).header('x-content-type-options', 'nosniff').header('content-security-policy', 'sandbox').header('x-file-mode', String(found.mode));
      return reply.send(found.content);
    },
  );

  app.delete(
    '/api/v1/sessions/:id/files',
    {
      schema: {
        operationId: 'deleteSessionFile',
        summary: 'Delete a file or a directory (recursively) in the session',
        description: 'A symbolic link is removed itself, never its target.',
        tags,
        ...idParams,
        querystring: FilePathQuery,
        response: { 204: Type.Null({ description: 'deleted' }), ...errors },
      },
    },
    async (request, reply) => {
      await sessions.deleteFile(ownerOf(request), request.params.id, request.query.path);
      reply.code(204).send(null);
    },
  );
}
