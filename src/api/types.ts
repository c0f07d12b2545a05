import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ApiConfig } from './config.js';
import type { Service } from '../engine/service.js';
import type { Submissions } from '../engine/submissions/types.js';
import type { ApiMetrics } from './metrics.js';

/** The Fastify instance with TypeBox types: route handlers get typed bodies from their schemas. */
export type Api = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, TypeBoxTypeProvider>;

/** What every route module receives. */
export interface RouteDeps {
  /** The one execution service (in this process, or over IPC in the privileged one). */
  service: Service;
  metrics: ApiMetrics;
  config: ApiConfig;
  /** Asynchronous executions: in this process (LocalSubmissions) or over the queue. */
  submissions: Submissions;
}

/** Error body shapes: ours, the original project's /api/v1/run, and Piston's. */
export type ErrorFormat = 'v1' | 'run' | 'piston';

declare module 'fastify' {
  interface FastifyContextConfig {
    errorFormat?: ErrorFormat;
    /** The route takes a raw body (any content type but JSON) as a Buffer. */
    rawBody?: boolean;
  }
  interface FastifyRequest {
    /** A stable, non-secret id of the API key used (for rate limits and logs). */
    apiKeyId?: string;
  }
}
