import { InvalidRequestError } from '../../errors.js';
import { printable } from '../../safe-text.js';
import { isDigest, type Digest } from './digest.js';

/** How an image is named: by digest, by `name:tag`, or by a bare name (an image id, or `name:latest`). */
export type ImageRef = { digest: Digest } | { name: string; tag: string | undefined };

/** Repository-style names (`python`, `team/python-ml`) and OCI tags. */
const NAME = /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

export const DEFAULT_TAG = 'latest';

export function checkName(name: string, field: string): string {
  if (name.length > 255 || !NAME.test(name)) throw new InvalidRequestError(field, `'${printable(name.slice(0, 100))}' is not an image name (lowercase letters, digits, '.', '_', '-', '/')`);
  return name;
}

export function checkTag(tag: string, field: string): string {
  if (!TAG.test(tag)) throw new InvalidRequestError(field, `'${printable(tag.slice(0, 100))}' is not a tag (letters, digits, '.', '_', '-'; at most 128)`);
  return tag;
}

/** Parses `sha256:<64 hex>`, `name:tag` or `name`; throws naming `field` otherwise. */
export function parseImageRef(ref: unknown, field = 'image'): ImageRef {
  if (typeof ref !== 'string' || ref === '') throw new InvalidRequestError(field, 'must be a digest (sha256:<64 hex digits>) or name:tag');
  if (ref.startsWith('sha256:')) {
    if (!isDigest(ref)) throw new InvalidRequestError(field, `'${printable(ref.slice(0, 100))}' is not a digest (sha256: and 64 lowercase hex digits)`);
    return { digest: ref };
  }
  const colon = ref.lastIndexOf(':');
  if (colon < 0) return { name: checkName(ref, field), tag: undefined };
  return { name: checkName(ref.slice(0, colon), field), tag: checkTag(ref.slice(colon + 1), field) };
}
