import { request } from 'undici';
import { ErrorCodes, ImageError } from '../../errors.js';
import { isLoopbackHost } from './ref.js';

/** A registry login (`RUNNER_CODES_REGISTRY_USERNAME` / `RUNNER_CODES_REGISTRY_PASSWORD`). */
export interface Credentials {
  username: string;
  password: string;
}

/** One `WWW-Authenticate` challenge: its scheme and parameters (RFC 7235). */
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/**
 * Parses a `WWW-Authenticate` header, e.g. `Bearer realm="https://auth/token",service="reg",scope="repository:a:pull"`.
 * Only the first challenge is kept (registries send one).
 */
export function parseChallenge(header: string): Challenge | null {
  const match = /^\s*([A-Za-z][A-Za-z0-9_-]*)\s*(.*)$/s.exec(header);
  if (!match?.[1]) return null;
  const params: Record<string, string> = {};
  const pairs = /([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?\s*/g;
  for (const pair of (match[2] ?? '').matchAll(pairs)) {
    if (pair[1]) params[pair[1].toLowerCase()] = pair[2] !== undefined ? pair[2].replace(/\\(.)/g, '$1') : (pair[3] ?? '');
  }
  return { scheme: match[1].toLowerCase(), params };
}

export function basicAuthorization(credentials: Credentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
}

/**
 * Answers a challenge with the `Authorization` header to retry with: `Basic` from the credentials, or
 * `Bearer` from the token endpoint the challenge names (the distribution spec's token flow: GET realm
 * with `service` and `scope`, Basic credentials when we have some, reply `{token}` or `{access_token}`).
 */
export async function answerChallenge(challenge: Challenge, scope: string, credentials: Credentials | undefined, registry: string): Promise<string> {
  const hint = 'set RUNNER_CODES_REGISTRY_USERNAME and RUNNER_CODES_REGISTRY_PASSWORD';
  if (challenge.scheme === 'basic') {
    if (!credentials) throw new ImageError(ErrorCodes.REGISTRY_AUTH, `registry ${registry} wants a username and password`, { hint });
    return basicAuthorization(credentials);
  }
  if (challenge.scheme !== 'bearer') {
    throw new ImageError(ErrorCodes.REGISTRY_AUTH, `registry ${registry} asks for '${challenge.scheme}' authentication; only Basic and Bearer are supported`);
  }
  const realm = challenge.params.realm;
  if (!realm) throw new ImageError(ErrorCodes.REGISTRY, `registry ${registry} sent a Bearer challenge without a realm`);
  let url: URL;
  try {
    url = new URL(realm);
  } catch {
    throw new ImageError(ErrorCodes.REGISTRY, `registry ${registry} named a token endpoint that is not a URL: ${realm}`);
  }
  // SECURITY: credentials go to a token endpoint over TLS, or to this machine's loopback.
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    throw new ImageError(ErrorCodes.REGISTRY_AUTH, `registry ${registry} named a token endpoint that is not https: ${url.origin}; refusing to send credentials there`);
  }
  if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
  for (const one of (challenge.params.scope ?? scope).split(' ')) if (one) url.searchParams.append('scope', one);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (credentials) headers.authorization = basicAuthorization(credentials);
  let response;
  try {
    // undici follows no redirect by default: the credentials stay with the endpoint the check above allowed.
    response = await request(url, { method: 'GET', headers });
  } catch (err) {
    throw new ImageError(ErrorCodes.REGISTRY, `token endpoint ${url.origin} of registry ${registry} is unreachable: ${(err as Error).message}`, { cause: err });
  }
  const text = await response.body.text();
  if (response.statusCode === 401 || response.statusCode === 403) {
    throw new ImageError(ErrorCodes.REGISTRY_AUTH, `the token endpoint of registry ${registry} refused ${credentials ? `user '${credentials.username}'` : 'anonymous access'} (HTTP ${response.statusCode})`, { hint });
  }
  if (response.statusCode !== 200) throw new ImageError(ErrorCodes.REGISTRY, `the token endpoint of registry ${registry} answered HTTP ${response.statusCode}`);
  let token: unknown;
  try {
    const body = JSON.parse(text) as { token?: unknown; access_token?: unknown };
    token = body.token ?? body.access_token;
  } catch {
    token = undefined;
  }
  if (typeof token !== 'string' || token === '') throw new ImageError(ErrorCodes.REGISTRY, `the token endpoint of registry ${registry} sent no token`);
  return `Bearer ${token}`;
}
