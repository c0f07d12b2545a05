import { ErrorCodes, InvalidRequestError, RunnerError } from '../../errors.js';
import { printable } from '../../safe-text.js';
import { bareHost, isForbiddenAddress } from './callback-address.js';

/** One allowlist entry: a host (name or address, as URL parsing normalizes it) and, optionally, the one port allowed. */
export interface AllowedHost {
  host: string;
  port?: number;
}

const ENTRY = /^(\[[0-9A-Fa-f:.]+\]|[^:[\]/@\s]+)(?::(\d{1,5}))?$/;
const MAX_URL_LENGTH = 2048;

/** URL parsing's form of a host (lower case, punycode, canonical IPv4/IPv6), or undefined when it is no host. */
function normalizedHost(host: string): string | undefined {
  try {
    return new URL(`http://${host}/`).hostname;
  } catch {
    return undefined;
  }
}

/** Parses `--callback-allowlist` entries (`HOST` or `HOST:PORT`, IPv6 in brackets); a bad entry is a configuration error naming it. */
export function parseAllowlist(entries: readonly string[]): AllowedHost[] {
  return entries.map((entry) => {
    const match = ENTRY.exec(entry);
    const host = match ? normalizedHost(match[1]!) : undefined;
    const port = match?.[2] === undefined ? undefined : Number(match[2]);
    if (!host || (port !== undefined && (port < 1 || port > 65535))) {
      throw new RunnerError(ErrorCodes.CONFIG, `--callback-allowlist: '${printable(entry)}' is not HOST or HOST:PORT`);
    }
    return port === undefined ? { host } : { host, port };
  });
}

/**
 * Checks a callback_url when it is submitted: http(s), no credentials, a host on the allowlist (and
 * its port, when the entry names one), not a forbidden address literal. The name is resolved again
 * and checked at each delivery (callback-delivery.ts). Throws InvalidRequestError naming `field`.
 */
export function checkCallbackUrl(raw: string, allowlist: readonly AllowedHost[], field = 'callback_url'): URL {
  if (allowlist.length === 0) throw new InvalidRequestError(field, 'callbacks are off on this server (no --callback-allowlist)');
  if (raw.length > MAX_URL_LENGTH) throw new InvalidRequestError(field, `must be at most ${MAX_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new InvalidRequestError(field, 'is not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidRequestError(field, `must be an http or https URL, not ${printable(url.protocol)}`);
  if (url.username !== '' || url.password !== '') throw new InvalidRequestError(field, 'must not carry credentials');
  if (isForbiddenAddress(bareHost(url.hostname))) throw new InvalidRequestError(field, `${printable(url.hostname)} is a link-local, metadata or unspecified address`);
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  if (!allowlist.some((entry) => entry.host === url.hostname && (entry.port === undefined || entry.port === port))) {
    throw new InvalidRequestError(field, `${printable(url.host)} is not on the server's callback allowlist`);
  }
  return url;
}
