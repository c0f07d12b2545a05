import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { ErrorCodes, ImageError } from '../../errors.js';

/** A content address: `sha256:` and 64 lowercase hex digits. */
export type Digest = `sha256:${string}`;

const DIGEST = /^sha256:[0-9a-f]{64}$/;

export function isDigest(value: unknown): value is Digest {
  return typeof value === 'string' && DIGEST.test(value);
}

/** The 64 hex digits of a digest (what file names in the store are made of); throws on anything else. */
export function digestHex(digest: string): string {
  if (!isDigest(digest)) throw new ImageError(ErrorCodes.IMAGE_DIGEST, `not a sha256 digest: '${digest.slice(0, 80)}'`);
  return digest.slice('sha256:'.length);
}

export function digestOf(data: Buffer | string): Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** The digest of a file's bytes, streamed. */
export async function fileDigest(path: string): Promise<Digest> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}
