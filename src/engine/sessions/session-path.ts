import { Buffer } from 'node:buffer';
import { InvalidRequestError } from '../../errors.js';
import { MAX_PATH_BYTES } from '../../protocol/limits.js';
import { hasUnsafeChars } from '../../safe-text.js';

/**
 * A path in a session's work directory, checked on the host before any frame is sent: relative,
 * `/`-separated, no `.`/`..`/empty components, no NUL, at most 255 bytes. The agent checks again and
 * opens every component with O_NOFOLLOW from the work directory (a symlink anywhere is refused), so
 * this check exists to give callers a clear 400 naming the field; it is not the only guard.
 * `''` (the work directory itself) only where `root` allows it (listings).
 */
export function validateSessionPath(path: unknown, field: string, options: { root?: boolean } = {}): string {
  if (typeof path !== 'string') throw new InvalidRequestError(field, 'must be a string');
  if (path === '') {
    if (options.root) return '';
    throw new InvalidRequestError(field, 'must not be empty');
  }
  if (Buffer.byteLength(path) > MAX_PATH_BYTES) throw new InvalidRequestError(field, `must be at most ${MAX_PATH_BYTES} bytes`);
  if (path.includes('\0')) throw new InvalidRequestError(field, 'must not contain NUL');
  // SECURITY: paths reach listings, logs and terminals; control and bidi characters could forge them.
  if (hasUnsafeChars(path)) throw new InvalidRequestError(field, 'must not contain control or bidirectional-override characters');
  if (path.startsWith('/')) throw new InvalidRequestError(field, 'must be relative to the session\'s work directory, not absolute');
  for (const part of path.split('/')) {
    if (part === '') throw new InvalidRequestError(field, 'must not contain empty path components');
    if (part === '.' || part === '..') throw new InvalidRequestError(field, `must not contain '${part}' components`);
  }
  return path;
}
