import type { FastifyReply, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { ErrorCodes } from '../errors.js';
import { ExecInput } from '../engine/exec-input.js';

/**
 * One execution driven over one WebSocket (Piston's /api/v2/connect, a session's process socket):
 * waiting for the message that starts it (closed with `timeout` if none comes in time), running,
 * done. The input it carries goes to the program; the socket closing, for whatever reason, cancels
 * the execution (its processes are killed).
 */
export class SocketExecution {
  readonly input = new ExecInput();
  readonly #socket: WebSocket;
  readonly #cancel = new AbortController();
  readonly #timer: NodeJS.Timeout;
  #state: 'waiting' | 'running' | 'done' = 'waiting';

  constructor(socket: WebSocket, startWithinMs: number, timeout: readonly [number, string]) {
    this.#socket = socket;
    this.#timer = setTimeout(() => {
      if (this.#state === 'waiting') this.close(timeout);
    }, startWithinMs);
    socket.on('close', () => {
      this.#end();
      this.#cancel.abort();
    });
  }

  get state(): 'waiting' | 'running' | 'done' {
    return this.#state;
  }

  /** Aborts when the socket closes. */
  get signal(): AbortSignal {
    return this.#cancel.signal;
  }

  /** The start message came: no more start timeout. */
  start(): void {
    clearTimeout(this.#timer);
    this.#state = 'running';
  }

  send(message: unknown): void {
    if (this.#socket.readyState === this.#socket.OPEN) this.#socket.send(JSON.stringify(message));
  }

  close([code, reason]: readonly [number, string]): void {
    this.#end();
    if (this.#socket.readyState === this.#socket.OPEN || this.#socket.readyState === this.#socket.CONNECTING) this.#socket.close(code, reason);
  }

  #end(): void {
    this.#state = 'done';
    clearTimeout(this.#timer);
  }
}

/**
 * The plain-HTTP answer of a WebSocket route (a GET without the upgrade, after the key check
 * passed): 426 Upgrade Required, in the route family's error shape.
 */
export function upgradeRequired(format: 'v1' | 'piston'): (request: FastifyRequest, reply: FastifyReply) => void {
  return (request, reply) => {
    const message = 'this route speaks WebSocket only: send the upgrade (Connection: Upgrade, Upgrade: websocket)';
    reply.code(426).header('upgrade', 'websocket');
    void reply.send(format === 'piston' ? { message } : { error: { code: ErrorCodes.INVALID_REQUEST, message }, trace_id: request.id });
  };
}
