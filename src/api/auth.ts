import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest, RouteOptions } from 'fastify';
import type { TSchema } from 'typebox';
import { ErrorCodes, RunnerError } from '../errors.js';
import { ErrorBodySchema } from './schemas/common.js';
import { PistonErrorSchema } from './schemas/piston.js';
import { RunErrorSchema } from './schemas/run.js';
import { keyDigest } from './redis-keys.js';
import type { Api, ErrorFormat } from './types.js';

/** Who may call a route: anyone, or a holder of one of the API keys (when the server has any). */
export type Access = 'open' | 'key';

/** The two ways to present a key, as OpenAPI security schemes. */
export const API_KEY_SCHEMES = {
  bearer: { type: 'http', scheme: 'bearer', description: '`Authorization: Bearer <key>`' },
  apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: '`X-API-Key: <key>`' },
} as const;

/** Either scheme will do. */
const KEY_REQUIRED = Object.keys(API_KEY_SCHEMES).map((name) => ({ [name]: [] }));

/** The body of a 401, in each route family's error shape. */
const UNAUTHORIZED_BODY: Record<ErrorFormat, TSchema> = { v1: ErrorBodySchema, run: RunErrorSchema, piston: PistonErrorSchema };

function presentedKey(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header === 'string' && /^Bearer\s+/i.test(header)) return header.replace(/^Bearer\s+/i, '').trim();
  const apiKey = request.headers['x-api-key'];
  return typeof apiKey === 'string' && apiKey !== '' ? apiKey : undefined;
}

/**
 * The keys a server accepts, as SHA-256 digests (hex). Either may throw RC_ERR_QUEUE_UNAVAILABLE when
 * the answer depends on Redis and Redis cannot be reached (shared-keys.ts): the check fails closed.
 */
export interface KeySource {
  /** Whether keys can exist at all: the routes are documented as keyed (OpenAPI) and checked. */
  readonly mayHaveKeys: boolean;
  /** Whether there is any key now (none: the keyed routes are open, as on a server without keys). */
  anyKeys(): boolean;
  accepts(digest: string): boolean;
}

/** The keys of the server's configuration (`--api-key`): fixed for its lifetime, compared in constant time. */
export class ConfigKeys implements KeySource {
  readonly #known: Buffer[];
  constructor(keys: readonly string[]) {
    this.#known = keys.map((key) => Buffer.from(keyDigest(key), 'hex'));
  }
  get mayHaveKeys(): boolean {
    return this.#known.length > 0;
  }
  anyKeys(): boolean {
    return this.#known.length > 0;
  }
  accepts(digest: string): boolean {
    const presented = Buffer.from(digest, 'hex');
    return this.#known.some((k) => timingSafeEqual(k, presented));
  }
}

/**
 * An onRequest hook requiring one of the keys of `keys` (while there is any). Keys are compared as
 * SHA-256 digests; only a digest prefix ever reaches logs or rate-limit buckets.
 */
function requireApiKey(keys: KeySource): (request: FastifyRequest) => Promise<void> {
  return async (request) => {
    if (!keys.anyKeys()) return;
    const key = presentedKey(request);
    if (key === undefined) {
      throw new RunnerError(ErrorCodes.API_KEY_MISSING, 'access_token missing: send `Authorization: Bearer <key>` or `X-API-Key: <key>`');
    }
    const presented = keyDigest(key);
    if (!keys.accepts(presented)) throw new RunnerError(ErrorCodes.API_KEY_INVALID, 'invalid access_token');
    request.apiKeyId = presented.slice(0, 12);
  };
}

/** Writes a route's access into its OpenAPI operation: its security requirement and, keyed, its 401. */
function documentAccess(route: RouteOptions, keyed: boolean): void {
  const schema = (route.schema ??= {}) as { security?: unknown; response?: Record<string, unknown> };
  schema.security = keyed ? KEY_REQUIRED : [];
  if (keyed && schema.response && !('4xx' in schema.response)) {
    schema.response['401'] ??= UNAUTHORIZED_BODY[route.config?.errorFormat ?? 'v1'];
  }
}

/**
 * A plugin registering routes with the given access. The routes live in an encapsulated context whose
 * onRequest hook belongs to them alone and runs after routing: what is checked is the route the router
 * matched, however the request target was spelled (percent-encoding, absolute form, ...). The same
 * context writes the access into the OpenAPI document, so the document and the check cannot disagree.
 * A server that can have no keys has only open routes.
 */
export function routesWithAccess(access: Access, keys: KeySource, register: (app: Api) => Promise<void>): (app: Api) => Promise<void> {
  const keyed = access === 'key' && keys.mayHaveKeys;
  return async (context) => {
    if (keyed) context.addHook('onRequest', requireApiKey(keys));
    context.addHook('onRoute', (route) => documentAccess(route, keyed));
    await register(context);
  };
}
