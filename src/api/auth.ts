import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { ErrorCodes, RunnerError } from '../errors.js';

const digest = (key: string): Buffer => createHash('sha256').update(key).digest();

function presentedKey(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header === 'string' && /^Bearer\s+/i.test(header)) return header.replace(/^Bearer\s+/i, '').trim();
  const apiKey = request.headers['x-api-key'];
  return typeof apiKey === 'string' && apiKey !== '' ? apiKey : undefined;
}

/**
 * onRequest hook requiring one of `keys` on every /api/ route (health, readiness, metrics and the
 * docs stay open). Keys are compared as SHA-256 digests in constant time; only a digest prefix
 * ever reaches logs or rate-limit buckets.
 */
export function apiKeyHook(keys: readonly string[]): (request: FastifyRequest) => Promise<void> {
  const known = keys.map(digest);
  return async (request) => {
    if (!request.url.startsWith('/api/')) return;
    const key = presentedKey(request);
    if (key === undefined) {
      throw new RunnerError(ErrorCodes.API_KEY_MISSING, 'access_token missing: send `Authorization: Bearer <key>` or `X-API-Key: <key>`');
    }
    const presented = digest(key);
    if (!known.some((k) => timingSafeEqual(k, presented))) throw new RunnerError(ErrorCodes.API_KEY_INVALID, 'invalid access_token');
    request.apiKeyId = presented.toString('hex').slice(0, 12);
  };
}
