import { StringDecoder } from 'node:string_decoder';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { OutputStream, StreamHandlers } from '../engine/exec-events.js';
import type { ExecutionResult } from '../engine/result.js';
import { statusOf, toHttpError } from './http-errors.js';

/** The media type of Server-Sent Events (https://html.spec.whatwg.org/multipage/server-sent-events.html). */
export const EVENT_STREAM = 'text/event-stream';

/** Whether the client asked for Server-Sent Events (`Accept: text/event-stream`). */
export function wantsEventStream(request: FastifyRequest): boolean {
  const accept = request.headers.accept;
  return typeof accept === 'string' && accept.split(',').some((part) => part.split(';')[0]!.trim().toLowerCase() === EVENT_STREAM);
}

/**
 * An execution streamed to one HTTP client as Server-Sent Events: `stage` ({stage}) as each stage
 * starts, `stdout` / `stderr` ({seq, data}) as the program writes, and last `result` (the usual
 * result object). The stream opens with the first event, so that everything refused before the
 * program starts (bad input, a full queue) is still an ordinary JSON error with its status.
 * Output is text cut only between whole UTF-8 characters, or base64 for `output_encoding: base64`.
 */
export class ExecutionEventStream {
  readonly #reply: FastifyReply;
  readonly #encoding: 'utf8' | 'base64';
  readonly #decoders = new Map<string, StringDecoder>();
  #seq = 0;
  #open = false;

  constructor(reply: FastifyReply, encoding: 'utf8' | 'base64' = 'utf8') {
    this.#reply = reply;
    this.#encoding = encoding;
  }

  get handlers(): StreamHandlers {
    return {
      onStage: (stage) => this.#event('stage', { stage }),
      onOutput: (stream, data, _seq, stage) => this.#output(stream, stage, data),
    };
  }

  /**
   * Ends the execution: the `result` event on an open stream; otherwise the result goes out as a
   * plain JSON reply (with its error status when the service failed before anything ran).
   */
  finish(result: ExecutionResult): ExecutionResult | undefined {
    if (!this.#open && result.error) {
      this.#reply.code(statusOf(result.error.code));
      return result;
    }
    return this.finishWith(result);
  }

  /** Ends with `result` as the last event, whatever it is (a cell's result: its `error` is the program's). */
  finishWith<T>(result: T): undefined {
    for (const [key, decoder] of this.#decoders) {
      const rest = decoder.end();
      if (rest) this.#event(key.slice(key.indexOf('/') + 1), { seq: this.#seq++, data: rest });
    }
    this.#event('result', result);
    this.#reply.raw.end();
    return undefined;
  }

  /** A failure after the stream opened goes out as an `error` event ({error: {code, message}}); before, it is thrown on. */
  fail(err: unknown): void {
    if (!this.#open) throw err;
    const error = toHttpError(err);
    this.#event('error', { error: { code: error.code, message: error.message } });
    this.#reply.raw.end();
  }

  #output(stream: OutputStream, stage: string, data: Buffer): void {
    if (this.#encoding === 'base64') return this.#event(stream, { seq: this.#seq++, data: data.toString('base64') });
    const key = `${stage}/${stream}`;
    let decoder = this.#decoders.get(key);
    if (!decoder) this.#decoders.set(key, (decoder = new StringDecoder('utf8')));
    const text = decoder.write(data);
    if (text) this.#event(stream, { seq: this.#seq++, data: text });
  }

  #event(name: string, data: unknown): void {
    const raw = this.#reply.raw;
    if (!this.#open) {
      this.#open = true;
      // From here on the reply is ours: Fastify's serializer and hooks are done with it.
      this.#reply.hijack();
      raw.writeHead(200, {
        ...(this.#reply.getHeaders() as Record<string, string | string[] | number>),
        'content-type': `${EVENT_STREAM}; charset=utf-8`,
        'cache-control': 'no-cache',
        // Proxies (nginx) must not hold events back.
        'x-accel-buffering': 'no',
      });
    }
    if (raw.destroyed || raw.writableEnded) return;
    // JSON has no raw newlines, so each event is one data line.
    raw.write(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
  }
}
