import { ErrorCodes, InvalidRequestError } from '../errors.js';
import { AboveMaximumError } from './above-maximum.js';
import { DEFAULT_INPUT_MAXIMA } from './request.js';

/** Where an interactive execution's input goes once its program runs (the agent's exec). */
export interface InputSink {
  stdin(data: Buffer, eof: boolean): void;
  signal(signal: number): void;
}

type Pending = { stdin: Buffer; eof: boolean } | { signal: number };

/** Signals a caller may send: Linux's 1–64 (the agent sends them to the stage's process group). */
export function checkSignal(signal: unknown, field = 'signal'): number {
  if (!Number.isSafeInteger(signal) || (signal as number) < 1 || (signal as number) > 64) throw new InvalidRequestError(field, 'must be a signal number from 1 to 64');
  return signal as number;
}

/**
 * The caller's end of an interactive execution: stdin and signals for its last stage (the run
 * stage; a compile stage gets no input). What the caller sends before the program runs is kept, in
 * order, until the engine attaches the program; what comes after the execution ended is dropped.
 * All stdin together is bounded like a request's `stdin`: past the maximum, write() throws.
 */
export class ExecInput {
  #sink: InputSink | undefined;
  #pending: Pending[] = [];
  #bytes = 0;
  #maxBytes: number;
  #ended = false;
  #done = false;

  constructor(maxBytes: number = DEFAULT_INPUT_MAXIMA.stdinBytes) {
    this.#maxBytes = maxBytes;
  }

  /** True once the engine detached the program (the execution is over). */
  get done(): boolean {
    return this.#done;
  }

  write(data: Buffer): void {
    if (this.#ended || this.#done) return;
    if (this.#bytes + data.length > this.#maxBytes) {
      throw new AboveMaximumError('stdin', `would be more than the ${this.#maxBytes}-byte maximum for one execution`, 'maxStdinBytes', { code: ErrorCodes.STDIN_TOO_LARGE });
    }
    this.#bytes += data.length;
    this.#send({ stdin: data, eof: false });
  }

  /** Closes the program's stdin (EOF). */
  end(): void {
    if (this.#ended || this.#done) return;
    this.#ended = true;
    this.#send({ stdin: Buffer.alloc(0), eof: true });
  }

  signal(signal: number): void {
    const checked = checkSignal(signal);
    if (!this.#done) this.#send({ signal: checked });
  }

  /** The engine's side: the program runs; `maxBytes` is the engine's own maximum, which may be lower. */
  attach(sink: InputSink, maxBytes: number): void {
    if (this.#done) return;
    this.#sink = sink;
    this.#maxBytes = Math.min(this.#maxBytes, maxBytes);
    let budget = this.#maxBytes;
    for (const item of this.#pending.splice(0)) {
      if ('signal' in item) {
        sink.signal(item.signal);
        continue;
      }
      // Kept before the engine's maximum was known: what is past it never reaches the program.
      const data = item.stdin.subarray(0, Math.max(0, budget));
      budget -= data.length;
      sink.stdin(data, item.eof);
    }
  }

  /** The engine's side: the execution is over; later input goes nowhere. */
  detach(): void {
    this.#done = true;
    this.#sink = undefined;
    this.#pending = [];
  }

  #send(item: Pending): void {
    if (!this.#sink) {
      this.#pending.push(item);
      return;
    }
    if ('signal' in item) this.#sink.signal(item.signal);
    else this.#sink.stdin(item.stdin, item.eof);
  }
}
