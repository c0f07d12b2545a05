import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { rm, stat, truncate } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCodes, ImageError, isRunnerError } from '../../errors.js';
import type { Sha256Digest } from './ref.js';

/** A blob to fetch into `path` (a temp file of the store): what it must hash to and how long it is. */
export interface BlobDownload {
  digest: Sha256Digest;
  size: number;
  path: string;
}

/** One ranged fetch: `offset` 0 asks for the whole blob; the remote answers 200, 206 or 416. */
export type FetchFrom = (offset: number) => Promise<{ statusCode: number; body: Readable }>;

export interface RetryOptions {
  /** Tries in all, resuming where the last one stopped (default 4). */
  attempts?: number;
  /** Pause before retry n is n times this (default 300 ms). */
  delayMs?: number;
}

/**
 * A failure worth another try: the connection dropped or was refused. A wrong digest, a refusal or a
 * missing blob is not (marked by a RunnerError without a network cause).
 */
export function isTransient(err: unknown): boolean {
  if (!isRunnerError(err)) return true;
  return err.code === ErrorCodes.REGISTRY && err.cause !== undefined;
}

/**
 * Fetches a blob, hashing as it streams. What is already in the file (an earlier, interrupted try or
 * run) is hashed first and the rest asked for with Range; a remote that ignores Range (200) restarts
 * the file. The bytes never exceed the declared size; a digest mismatch removes the file and throws
 * IMAGE_DIGEST. `onBytes` gets byte deltas (negative when a restart drops what was counted).
 */
export async function downloadVerified(download: BlobDownload, onBytes: (bytes: number) => void, fetchFrom: FetchFrom, retry: RetryOptions = {}): Promise<void> {
  const attempts = retry.attempts ?? 4;
  // Each try reports the bytes already in the file as a correction, so progress never counts them twice.
  let reported = 0;
  const progress = {
    add(bytes: number): void {
      reported += bytes;
      onBytes(bytes);
    },
    set(bytes: number): void {
      if (bytes !== reported) progress.add(bytes - reported);
    },
  };
  for (let attempt = 1; ; attempt++) {
    try {
      await downloadOnce(download, progress, fetchFrom);
      return;
    } catch (err) {
      if (!isTransient(err) || attempt >= attempts) {
        if (isRunnerError(err) && err.code === ErrorCodes.IMAGE_DIGEST) await rm(download.path, { force: true });
        if (isTransient(err) && !isRunnerError(err)) {
          throw new ImageError(ErrorCodes.REGISTRY, `blob ${download.digest} could not be fetched after ${attempts} tries: ${(err as Error).message}`, {
            cause: err,
            hint: 'run the pull again: it resumes from the bytes already fetched',
          });
        }
        throw err;
      }
      await sleep((retry.delayMs ?? 300) * attempt);
    }
  }
}

async function downloadOnce(download: BlobDownload, progress: { add(bytes: number): void; set(bytes: number): void }, fetchFrom: FetchFrom): Promise<void> {
  let have = await fileSize(download.path);
  if (have > download.size) {
    await truncate(download.path, 0);
    have = 0;
  }
  let hash = createHash('sha256');
  if (have > 0) await hashFile(download.path, have, hash);
  progress.set(have);
  if (have < download.size) {
    const response = await fetchFrom(have);
    if (response.statusCode === 416 || (response.statusCode === 200 && have > 0)) {
      // The remote cannot resume (or will not): start the file again.
      await truncate(download.path, 0);
      progress.set(0);
      hash = createHash('sha256');
      have = 0;
      if (response.statusCode === 416) {
        response.body.resume();
        throw new Error('the remote refused the range; restarting the blob');
      }
    } else if (response.statusCode !== 200 && response.statusCode !== 206) {
      response.body.resume();
      throw new ImageError(ErrorCodes.REGISTRY, `unexpected HTTP ${response.statusCode} for blob ${download.digest}`);
    }
    let received = have;
    const file = createWriteStream(download.path, { flags: have > 0 ? 'a' : 'w', mode: 0o600 });
    try {
      for await (const chunk of response.body as AsyncIterable<Buffer>) {
        received += chunk.length;
        if (received > download.size) {
          throw new ImageError(ErrorCodes.IMAGE_DIGEST, `blob ${download.digest} is longer than the ${download.size} bytes its manifest declares`);
        }
        hash.update(chunk);
        progress.add(chunk.length);
        if (!file.write(chunk)) await once(file, 'drain');
      }
    } finally {
      // Flushed, not destroyed, also when the connection dropped: the next try resumes after these bytes.
      response.body.destroy();
      await new Promise<void>((resolve, reject) => file.end((err?: Error | null) => (err ? reject(err) : resolve())));
    }
    if (received < download.size) throw new Error(`the connection ended after ${received} of ${download.size} bytes`);
  }
  const actual = `sha256:${hash.digest('hex')}`;
  if (actual !== download.digest) {
    throw new ImageError(ErrorCodes.IMAGE_DIGEST, `blob ${download.digest} arrived with digest ${actual}: the remote copy is corrupted, nothing was imported`, {
      hint: 'push the image again from a good copy',
    });
  }
}

async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

async function hashFile(path: string, length: number, hash: Hash): Promise<void> {
  for await (const chunk of createReadStream(path, { start: 0, end: length - 1 })) hash.update(chunk as Buffer);
}
