import type { Readable, Writable } from 'node:stream';
import { ErrorCodes, RunnerError, SandboxError } from '../errors.js';
import { FrameDecoder, encodeFrame } from '../protocol/frame.js';
import { JOB_PROTOCOL_VERSION, MAX_JOB_FRAME, MAX_RESULT_FRAME, PROTOCOL_VERSION } from '../protocol/limits.js';
import type { AgentMessage, JobMessage, PrestartMessage, PrestartedMessage, ReadyMessage, ResultMessage, SessionMessage } from '../protocol/messages.js';

type Waiter = { resolve: (message: AgentMessage) => void; reject: (err: Error) => void };

/** Session mode's receiver: every frame, and the channel's one failure. */
export interface FrameListener {
  frame(message: SessionMessage): void;
  failed(err: Error): void;
}

/**
 * The host's end of the agent protocol over any byte stream pair (bwrap pipes, virtio-serial,
 * vsock): frames in, frames out. Version 1: one ready, one job, one result (request()). Version 2:
 * after ready, listen() hands every frame to a listener (src/sandbox/agent-session.ts).
 */
export class AgentChannel {
  readonly #output: Writable;
  readonly #decoder = new FrameDecoder(MAX_RESULT_FRAME);
  readonly #inbox: AgentMessage[] = [];
  #waiter: Waiter | undefined;
  #listener: FrameListener | undefined;
  #failure: Error | undefined;
  #ready: ReadyMessage | undefined;

  constructor(input: Readable, output: Writable) {
    this.#output = output;
    input.on('data', (chunk: Buffer) => {
      if (this.#failure) return;
      try {
        for (const message of this.#decoder.push(chunk)) this.#deliver(message as AgentMessage);
      } catch (err) {
        this.fail(err as Error);
      }
    });
    // (Ended after every job, the channel failed already by the teardown: no error built then.)
    input.on('end', () => void (this.#failure ?? this.fail(new SandboxError(ErrorCodes.SANDBOX_START, 'agent closed its output'))));
    input.on('error', (err) => this.fail(err));
    output.on('error', () => {
      // EPIPE when the sandbox died; the input side reports the failure.
    });
  }

  /** Rejects the pending and all future reads with `err` (the first failure wins). */
  fail(err: Error): void {
    if (this.#failure) return;
    this.#failure = err;
    this.#waiter?.reject(err);
    this.#waiter = undefined;
    this.#listener?.failed(err);
  }

  async waitReady(timeoutMs: number): Promise<ReadyMessage> {
    const message = await this.#next(timeoutMs, 'the agent did not start');
    if (message.type !== 'ready') throw protocolError(`expected a ready frame, got '${message.type}'`);
    if (!(message.protocols ?? [message.protocol]).includes(JOB_PROTOCOL_VERSION)) {
      throw protocolError(`agent speaks protocol ${message.protocol}, the host ${JOB_PROTOCOL_VERSION} and ${PROTOCOL_VERSION}`);
    }
    this.#ready = message;
    return message;
  }

  /** Whether the agent said it speaks `version` (after waitReady). */
  speaks(version: number): boolean {
    return this.#ready !== undefined && (this.#ready.protocols ?? [this.#ready.protocol]).includes(version);
  }

  /** Whether the agent said it understands an optional frame (its ready frame's `features`). */
  offers(feature: string): boolean {
    return this.#ready?.features?.includes(feature) ?? false;
  }

  /** Session mode: from now on every frame goes to `listener` (none may be waited for with request()). */
  listen(listener: FrameListener): void {
    this.#listener = listener;
    for (const message of this.#inbox.splice(0)) listener.frame(message as SessionMessage);
    if (this.#failure) listener.failed(this.#failure);
  }

  /** Writes one frame (session mode). A broken channel surfaces through the listener. */
  send(message: object): void {
    if (this.#failure) throw this.#failure;
    this.#output.write(encodeFrame(message, MAX_JOB_FRAME));
  }

  /** Sends a prestart frame (before the job) and waits for the agent's answer. */
  async prestart(frame: PrestartMessage, timeoutMs: number): Promise<PrestartedMessage> {
    this.#output.write(encodeFrame(frame, MAX_JOB_FRAME));
    const message = await this.#next(timeoutMs, 'the agent did not answer the prestart frame in time');
    if (message.type === 'error') throw new RunnerError(ErrorCodes.AGENT_PROTOCOL, `agent refused the prestart frame (${message.code}): ${message.message}`);
    if (message.type !== 'prestarted') throw protocolError(`expected a prestarted frame, got '${message.type}'`);
    return message;
  }

  async request(job: JobMessage, timeoutMs: number): Promise<ResultMessage> {
    this.#output.write(encodeFrame(job, MAX_JOB_FRAME));
    const message = await this.#next(timeoutMs, 'the agent gave no result in time');
    if (message.type === 'error') {
      const code = message.code === 'bad_job' || message.code === 'file_write' ? ErrorCodes.JOB_REJECTED : ErrorCodes.AGENT_PROTOCOL;
      throw new RunnerError(code, `agent refused the job (${message.code}): ${message.message}`);
    }
    if (message.type !== 'result') throw protocolError(`expected a result frame, got '${message.type}'`);
    return message;
  }

  #deliver(message: AgentMessage): void {
    if (this.#listener) {
      this.#listener.frame(message as unknown as SessionMessage);
    } else if (this.#waiter) {
      const waiter = this.#waiter;
      this.#waiter = undefined;
      waiter.resolve(message);
    } else {
      this.#inbox.push(message);
    }
  }

  #next(timeoutMs: number, timeoutMessage: string): Promise<AgentMessage> {
    const queued = this.#inbox.shift();
    if (queued) return Promise.resolve(queued);
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise<AgentMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiter = undefined;
        reject(new SandboxError(ErrorCodes.AGENT_TIMEOUT, `${timeoutMessage} (${timeoutMs} ms)`));
      }, timeoutMs);
      this.#waiter = {
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
    });
  }
}

function protocolError(message: string): RunnerError {
  return new RunnerError(ErrorCodes.AGENT_PROTOCOL, message);
}
