import { RunnerError, ErrorCodes } from '../errors.js';

/** Encode one frame: 4-byte big-endian length + UTF-8 JSON. */
export function encodeFrame(message: unknown, maxBytes: number): Buffer {
  const body = Buffer.from(JSON.stringify(message), 'utf8');
  if (body.length > maxBytes) {
    throw new RunnerError(ErrorCodes.INVALID_REQUEST, `job is ${body.length} bytes encoded, more than the ${maxBytes}-byte frame limit`);
  }
  const header = Buffer.allocUnsafe(4);
  header.writeUInt32BE(body.length, 0);
  return Buffer.concat([header, body]);
}

/**
 * Incremental frame decoder for a byte stream. Push chunks in; complete frames come out.
 * Rejects a declared length of 0 or above `maxBytes` before buffering the body, so a broken
 * or hostile peer cannot make the host allocate without bound.
 */
export class FrameDecoder {
  readonly #maxBytes: number;
  #chunks: Buffer[] = [];
  #buffered = 0;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** Returns every complete frame's parsed JSON (in order). Throws AGENT_PROTOCOL on bad frames. */
  push(chunk: Buffer): unknown[] {
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    const out: unknown[] = [];
    for (;;) {
      if (this.#buffered < 4) return out;
      const all = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks);
      this.#chunks = [all];
      const length = all.readUInt32BE(0);
      if (length === 0 || length > this.#maxBytes) {
        throw new RunnerError(ErrorCodes.AGENT_PROTOCOL, `frame length ${length} is outside 1..${this.#maxBytes}`);
      }
      if (all.length < 4 + length) return out;
      const body = all.subarray(4, 4 + length);
      const rest = all.subarray(4 + length);
      this.#chunks = rest.length > 0 ? [rest] : [];
      this.#buffered = rest.length;
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch (cause) {
        throw new RunnerError(ErrorCodes.AGENT_PROTOCOL, 'frame body is not valid JSON', { cause });
      }
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
        throw new RunnerError(ErrorCodes.AGENT_PROTOCOL, 'frame body is not a JSON object');
      }
      out.push(parsed);
    }
  }

  /** Bytes received that do not yet form a complete frame. */
  get pendingBytes(): number {
    return this.#buffered;
  }
}
