import { randomUUID } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import Fastify, { type FastifyError, type FastifyReply, type FastifyRequest } from 'fastify';
import websocket from '@fastify/websocket';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ErrorCodes, InvalidRequestError, RunnerError } from '../errors.js';
import { ConfigKeys, routesWithAccess, type Access, type KeySource } from './auth.js';
import { RateLimit } from './rate-limit.js';
import { loggableError, RequestLog } from './request-log.js';
import { printable } from '../safe-text.js';
import type { ApiConfig } from './config.js';
import type { Service } from '../engine/service.js';
import { ApiMetrics } from './metrics.js';
import { registerQueueMetrics, type QueueMetricsSource } from './queue-metrics.js';
import { toHttpError, type HttpError } from './http-errors.js';
import { registerDocs } from './routes/docs.js';
import { executeRoutes } from './routes/execute.js';
import { operationsRoutes } from './routes/operations.js';
import { playgroundRoutes } from './routes/playground.js';
import { poolRoutes } from './routes/pool.js';
import { languageRoutes } from './routes/languages.js';
import { pistonRoutes } from './routes/piston.js';
import { pistonConnectRoutes } from './routes/piston-connect.js';
import { runRoutes } from './routes/run.js';
import { sessionRoutes } from './routes/sessions.js';
import { sessionConnectRoutes } from './routes/session-connect.js';
import { mcpRoutes } from './routes/mcp.js';
import { submissionRoutes } from './routes/submissions.js';
import { submissionSettingsFor } from './submission-options.js';
import { LocalSubmissions } from '../engine/submissions/local-submissions.js';
import type { Submissions } from '../engine/submissions/types.js';
import type { Api, ErrorFormat, RouteDeps } from './types.js';

/**
 * Every route module and who may call its routes. A route's access is where it is registered, so the
 * key check and the OpenAPI document both follow this table (auth.ts).
 */
const ROUTE_MODULES: readonly { routes: (app: Api, deps: RouteDeps) => Promise<void>; access: Access }[] = [
  { routes: operationsRoutes, access: 'open' },
  { routes: executeRoutes, access: 'key' },
  { routes: runRoutes, access: 'key' },
  { routes: languageRoutes, access: 'key' },
  { routes: poolRoutes, access: 'key' },
  { routes: pistonRoutes, access: 'key' },
  { routes: pistonConnectRoutes, access: 'key' },
  { routes: sessionRoutes, access: 'key' },
  { routes: sessionConnectRoutes, access: 'key' },
  { routes: submissionRoutes, access: 'key' },
  // The page and its assets are static and open; every API call the page makes needs the key.
  { routes: playgroundRoutes, access: 'open' },
  { routes: mcpRoutes, access: 'key' },
];

/** Trace ids from clients are kept only when they are short and plain (they reach our logs). */
const SAFE_TRACE_ID = /^[A-Za-z0-9._-]{1,64}$/;

function errorBody(format: ErrorFormat, error: HttpError, traceId: string): unknown {
  if (format === 'piston') return { message: error.message };
  if (format === 'run') return { status: 'failed', code: error.legacyCode ?? error.code, message: error.message, trace_id: traceId };
  return {
    error: { code: error.code, message: error.message, ...(error.field ? { field: error.field } : {}), ...(error.legacyCode ? { legacy_code: error.legacyCode } : {}) },
    trace_id: traceId,
  };
}

/** Parses JSON bodies strictly: UTF-8 only (invalid bytes are an error, not U+FFFD), objects only. */
function parseJson(_request: FastifyRequest, body: Buffer, done: (err: Error | null, value?: unknown) => void): void {
  if (!isUtf8(body)) return done(new RunnerError(ErrorCodes.UNSUPPORTED_MEDIA_TYPE, 'body: is not valid UTF-8'));
  if (body.length === 0) return done(new InvalidRequestError('body', 'must not be empty'));
  try {
    done(null, JSON.parse(body.toString('utf8')));
  } catch {
    done(new InvalidRequestError('body', 'is not valid JSON'));
  }
}

/**
 * Submissions in this process, closed as the app begins to close (preClose: waiting GETs are answered
 * before the server waits for its open requests), and before the service, which server.ts closes last.
 */
function localSubmissions(app: Api, service: Service, config: ApiConfig): Submissions {
  const submissions = new LocalSubmissions(service, { settings: submissionSettingsFor(config), maxima: config, maxBatch: config.maxBatch, log: app.log });
  app.addHook('preClose', () => submissions.close());
  return submissions;
}

/**
 * Builds the HTTP API around the execution service: schema-validated routes, one error translation,
 * API keys, rate limits, metrics, OpenAPI. Listening and signal handling belong to the caller (server.ts).
 */
export interface AppOptions {
  /** false: no logging at all. */
  logger?: boolean;
  /** Where log lines go (default stdout). */
  logStream?: { write(line: string): void };
  /** The submissions behind /api/v1/submissions (queue mode: over Redis; its opener closes it). Default: in this process, over `service`. */
  submissions?: Submissions;
}

export async function buildApp(service: Service, config: ApiConfig, options: AppOptions = {}): Promise<Api> {
  const metrics = new ApiMetrics(service);
  if (isQueueSource(service)) registerQueueMetrics(metrics.registry, service);
  const app: Api = Fastify({
    logger:
      options.logger === false
        ? false
        : { level: config.logLevel, redact: ['req.headers.authorization', 'req.headers["x-api-key"]'], ...(options.logStream ? { stream: options.logStream } : {}) },
    bodyLimit: config.bodyLimit,
    logController: new RequestLog(),
    genReqId: (req) => {
      const given = req.headers['x-trace-id'];
      return typeof given === 'string' && SAFE_TRACE_ID.test(given) ? given : randomUUID();
    },
    // Unknown fields are rejected, types are never coerced: what the schema says is what we get.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, parseJson);
  // Piston's own client (piston-client) posts JSON as text/plain; accept that on the Piston routes only.
  app.addContentTypeParser('text/plain', { parseAs: 'buffer' }, (request, body, done) => {
    // The route the router matched decides, not the spelling of the URL.
    if (request.routeOptions.config.errorFormat === 'piston') return parseJson(request, body as Buffer, done);
    if (request.routeOptions.config.rawBody) return done(null, body);
    done(new RunnerError(ErrorCodes.UNSUPPORTED_MEDIA_TYPE, 'body: must be sent as application/json'));
  });
  // Raw bodies (a session file's bytes) only where the route takes them; JSON everywhere else.
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (request, body, done) => {
    if (request.routeOptions.config.rawBody) return done(null, body);
    done(new RunnerError(ErrorCodes.UNSUPPORTED_MEDIA_TYPE, 'body: must be sent as application/json'));
  });
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-trace-id', request.id);
  });
  // While shutting down, close each connection after its reply so that keep-alive clients do not hold the server open.
  app.addHook('onSend', async (_request, reply) => {
    if (service.closed) reply.header('connection', 'close');
  });
  const { keys, rateLimit } = await accessControl(app, config);
  if (config.rateLimit > 0) await rateLimit.register(app, config.rateLimit, config.queuePrefix);

  app.setErrorHandler((err: FastifyError, request, reply: FastifyReply) => {
    const error = toHttpError(rateLimit.explain(request, err));
    // SECURITY: messages and field names can quote caller input (file names, language names).
    if (error.status >= 500) request.log.error({ err: loggableError(err) }, 'request failed');
    else request.log.info({ code: error.code, field: error.field === undefined ? undefined : printable(error.field) }, printable(error.message));
    if (error.retryAfter !== undefined && !reply.hasHeader('retry-after')) reply.header('retry-after', String(error.retryAfter));
    reply.code(error.status).send(errorBody(request.routeOptions.config.errorFormat ?? 'v1', error, request.id));
  });
  app.setNotFoundHandler((request, reply) => {
    const format: ErrorFormat = request.url.startsWith('/api/v2/') ? 'piston' : 'v1';
    const error = toHttpError(new RunnerError(ErrorCodes.NOT_FOUND, `no route ${request.method} ${request.url.split('?')[0]}`));
    reply.code(404).send(errorBody(format, error, request.id));
  });

  // WebSocket routes upgrade after their context's hooks ran (the key check, the rate limit); a
  // message may be as large as a request body.
  await app.register(websocket, { options: { maxPayload: config.bodyLimit } });
  await registerDocs(app, keys);
  const submissions = options.submissions ?? localSubmissions(app, service, config);
  const deps: RouteDeps = { service, metrics, config, submissions };
  for (const { routes, access } of ROUTE_MODULES) await app.register(routesWithAccess(access, keys, (context) => routes(context, deps)));
  return app;
}

/**
 * Who may call and how often: this process's configuration and counters, or in queue mode
 * (`config.queue`) both shared by every API replica through Redis (shared-access.ts, loaded only then).
 */
async function accessControl(app: Api, config: ApiConfig): Promise<{ keys: KeySource; rateLimit: RateLimit }> {
  if (!config.queue) return { keys: new ConfigKeys(config.apiKeys), rateLimit: new RateLimit() };
  return (await import('./shared-access.js')).openSharedAccess(app, config);
}

/** The QueueService of queue mode, told apart by shape so that BullMQ is not loaded otherwise. */
function isQueueSource(service: Service): service is Service & QueueMetricsSource {
  return 'fleet' in service && typeof (service as Partial<QueueMetricsSource>).queue === 'function';
}
