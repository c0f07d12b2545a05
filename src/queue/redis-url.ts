import type { RedisOptions } from 'ioredis';
import { ErrorCodes, RunnerError } from '../errors.js';

const FORM = 'redis://[user:pass@]host:port[/db]';

/** Where a queue URL points, without its password (for messages and logs: the URL is a secret). */
export function describeRedis(options: RedisOptions): string {
  return `${options.host}:${options.port}${options.db ? `/${options.db}` : ''}`;
}

/**
 * `--queue redis://[user:pass@]host:port[/db]` as ioredis options. A bad URL is a CONFIG error that
 * names the option and the form, and never echoes the URL (it may hold a password).
 */
export function redisOptionsOf(url: string, option = '--queue'): RedisOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RunnerError(ErrorCodes.CONFIG, `${option}: is not a URL (expected ${FORM})`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new RunnerError(ErrorCodes.CONFIG, `${option}: the scheme must be redis:// or rediss:// (expected ${FORM})`);
  }
  if (parsed.hostname === '') throw new RunnerError(ErrorCodes.CONFIG, `${option}: names no host (expected ${FORM})`);
  const port = parsed.port === '' ? 6379 : Number(parsed.port);
  const dbText = parsed.pathname.replace(/^\//, '');
  if (dbText !== '' && !/^\d{1,2}$/.test(dbText)) throw new RunnerError(ErrorCodes.CONFIG, `${option}: the database must be a number, as in redis://host:6379/0`);
  if (parsed.search !== '' || parsed.hash !== '') throw new RunnerError(ErrorCodes.CONFIG, `${option}: takes no query or fragment (expected ${FORM})`);
  return {
    host: parsed.hostname.replace(/^\[|\]$/g, ''),
    port,
    ...(dbText !== '' ? { db: Number(dbText) } : {}),
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(parsed.protocol === 'rediss:' ? { tls: { servername: parsed.hostname } } : {}),
  };
}
