import type { Readable, Writable } from 'node:stream';
import { ErrorCodes, RunnerError, SandboxError } from '../errors.js';
import { FrameDecoder, encodeFrame } from '../protocol/frame.js';
import { MAX_JOB_FRAME, MAX_RESULT_FRAME, PROTOCOL_VERSION } from '../protocol/limits.js';
import type { AgentMessage, JobMessage, ReadyMessage, ResultMessage } from '../protocol/messages.js';

type Waiter = { resolve: (message: AgentMessage) => void; reject: (err: Error) => void };

/**
 * The host's end of the agent protocol over any byte stream pair (bwrap pipes, virtio-serial,
 * vsock): frames in, frames out, one ready, one job, one result.
 */
export class AgentChannel {
  readonly #output: Writable;
  readonly #decoder = new FrameDecoder(MAX_RESULT_FRAME);
  readonly #inbox: AgentMessage[] = [];
  #waiter: Waiter | undefined;
  #failure: Error | undefined;

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
    input.on('end', () => this.fail(new SandboxError(ErrorCodes.SANDBOX_START, 'agent closed its output')));
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
  }

  async waitReady(timeoutMs: number): Promise<ReadyMessage> {
    const message = await this.#next(timeoutMs, 'the agent did not start');
    if (message.type !== 'ready') throw protocolError(`expected a ready frame, got '${message.type}'`);
    if (message.protocol !== PROTOCOL_VERSION) {
      throw protocolError(`agent speaks protocol ${message.protocol}, the host ${PROTOCOL_VERSION}`);
    }
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
    if (this.#waiter) {
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
