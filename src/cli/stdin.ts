import { fstatSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { AboveMaximumError, type MaximumSetting } from '../engine/above-maximum.js';
import type { ErrorCode } from '../errors.js';

/**
 * Whether our stdin is data someone piped or redirected to us (`echo x | …`, `… < file`): a pipe
 * or a regular file. A terminal, /dev/null, a socket (what Node's child_process gives a child, and
 * never closes unless told to) or a closed descriptor is not read unless asked (`--stdin-file -`),
 * so that nothing waits for an end of input that never comes.
 */
export function stdinIsPiped(): boolean {
  try {
    const stat = fstatSync(0);
    return stat.isFIFO() || stat.isFile();
  } catch {
    return false;
  }
}

/** What is being read, and the maximum that bounds it (named in the error beyond it). */
export interface ReadLimit {
  field: string;
  setting: MaximumSetting;
  maxBytes: number;
  code: ErrorCode;
}

/** Reads a stream to its end, stopping as soon as it is larger than `limit.maxBytes`. */
export async function readCapped(source: Readable, limit: ReadLimit): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of source as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > limit.maxBytes) {
      source.destroy();
      throw new AboveMaximumError(limit.field, `is more than the ${limit.maxBytes}-byte maximum`, limit.setting, { code: limit.code });
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
