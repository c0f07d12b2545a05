import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { ErrorCodes, ImageError } from '../../errors.js';
import type { Digest } from './digest.js';

/** A pass-through stream that hashes and counts what flows through it, failing past `maxBytes`. */
export class Measure extends Transform {
  readonly #hash: Hash = createHash('sha256');
  readonly #maxBytes: number;
  readonly #what: string;
  bytes = 0;

  constructor(maxBytes = Number.POSITIVE_INFINITY, what = 'stream') {
    super();
    this.#maxBytes = maxBytes;
    this.#what = what;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.#maxBytes) {
      done(new ImageError(ErrorCodes.IMAGE_IMPORT, `${this.#what} is larger than the ${this.#maxBytes}-byte bound`));
      return;
    }
    this.#hash.update(chunk);
    done(null, chunk);
  }

  digest(): Digest {
    return `sha256:${this.#hash.digest('hex')}`;
  }
}
