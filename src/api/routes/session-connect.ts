import { constants } from 'node:os';
import { StringDecoder } from 'node:string_decoder';
import type {} from '@fastify/websocket';
import { Compile } from 'typebox/compile';
import type { WebSocket } from 'ws';
import { checkSignal } from '../../engine/exec-input.js';
import { InvalidRequestError } from '../../errors.js';
import { statusOf, toHttpError } from '../http-errors.js';
import { SocketExecution, upgradeRequired } from '../socket-execution.js';
import { ErrorBodySchema } from '../schemas/common.js';
import { SessionExecBodySchema, SessionIdParams } from '../schemas/sessions.js';
import type { Api, RouteDeps } from '../types.js';
import { ownerOf, toExecRequest } from './sessions.js';

const checkStart = Compile(SessionExecBodySchema);

/** A socket that sent no `start` in this long is closed (4408). */
export const START_TIMEOUT_MS = 10_000;

/** A signal by name (`SIGINT`) or number (1–64). */
function signalOf(value: unknown): number {
  if (typeof value === 'string') {
    const number = (constants.signals as Record<string, number>)[value];
    if (/^SIG[A-Z0-9]+$/.test(value) && number !== undefined) return number;
    throw new InvalidRequestError('signal', `'${value.slice(0, 16)}' is not a signal name`);
  }
  return checkSignal(value);
}

/**
 * One interactive process in a session over a WebSocket (docs/api.md, "Interactive process"): the
 * client's `start` is the body of the session's execute; then `stdin` and `signal` messages go to the
 * program while `stage`, `stdout`/`stderr` and at last `exit` (with the result object) come back.
 * Errors are `{type:"error", error}` and a close code of 4000 + the HTTP status the same error would
 * have (4400, 4404, 4429, …). The socket closing kills the process; the session lives on.
 */
function serveProcess(socket: WebSocket, { service }: RouteDeps, owner: string, session: string, traceId: string): void {
  const run = new SocketExecution(socket, START_TIMEOUT_MS, [4408, 'no start message in time']);
  const send = (message: unknown): void => run.send(message);
  const close = (code: number, reason: string): void => run.close([code, reason]);
  const fail = (err: unknown): void => {
    const error = toHttpError(err);
    send({ type: 'error', error: { code: error.code, message: error.message, ...(error.field ? { field: error.field } : {}) } });
    close(4000 + Math.min(error.status, 999), error.code);
  };

  const start = async (message: Record<string, unknown>): Promise<void> => {
    run.start();
    const { type: _type, ...body } = message;
    if (!checkStart.Check(body)) {
      const error = [...checkStart.Errors(body)].find((e) => e.keyword !== 'boolean');
      throw new InvalidRequestError((error?.instancePath ?? '').replace(/^\//, '').replaceAll('/', '.') || 'start', error?.message ?? 'is not a valid start message');
    }
    const encoding = body.output_encoding ?? 'utf8';
    const decoders = new Map<string, StringDecoder>();
    const result = await service.sessions.execute(owner, session, toExecRequest(body), {
      traceId,
      signal: run.signal,
      input: run.input,
      stream: {
        onStage: (stage) => send({ type: 'stage', stage }),
        onOutput: (stream, data, seq, stage) => {
          if (encoding === 'base64') return send({ type: stream, seq, data: data.toString('base64') });
          const key = `${stage}/${stream}`;
          if (!decoders.has(key)) decoders.set(key, new StringDecoder('utf8'));
          const text = decoders.get(key)!.write(data);
          if (text) send({ type: stream, seq, data: text });
        },
      },
    });
    if (result.error) {
      send({ type: 'error', error: result.error });
      return close(4000 + Math.min(statusOf(result.error.code), 999), result.error.code);
    }
    send({ type: 'exit', exit_code: result.exit_code, signal: result.signal, timed_out: result.timed_out, result });
    close(1000, 'exited');
  };

  socket.on('message', (raw: Buffer) => {
    if (run.state === 'done') return;
    try {
      let message: unknown;
      try {
        message = JSON.parse(raw.toString('utf8'));
      } catch {
        throw new InvalidRequestError('message', 'is not valid JSON');
      }
      if (message === null || typeof message !== 'object' || Array.isArray(message)) throw new InvalidRequestError('message', 'must be a JSON object');
      const msg = message as Record<string, unknown>;
      if (msg.type === 'start') {
        if (run.state !== 'waiting') throw new InvalidRequestError('type', 'the process was started already');
        return void start(msg).catch(fail);
      }
      if (run.state === 'waiting') throw new InvalidRequestError('type', `'start' must come first`);
      if (msg.type === 'stdin') {
        if (msg.data !== undefined && typeof msg.data !== 'string') throw new InvalidRequestError('data', 'must be a string');
        if (typeof msg.data === 'string') run.input.write(Buffer.from(msg.data, 'utf8'));
        if (msg.eof === true) run.input.end();
        return;
      }
      if (msg.type === 'signal') return run.input.signal(signalOf(msg.signal));
      throw new InvalidRequestError('type', "must be 'start', 'stdin' or 'signal'");
    } catch (err) {
      fail(err);
    }
  });
}

export async function sessionConnectRoutes(app: Api, deps: RouteDeps): Promise<void> {
  app.route({
    method: 'GET',
    url: '/api/v1/sessions/:id/connect',
    schema: {
      operationId: 'connectSessionProcess',
      summary: 'Drive an interactive process in a session over a WebSocket',
      description:
        'Send `{"type":"start", …}` (the body of the session\'s execute: `code` or `command`, …), then `{"type":"stdin","data":"…","eof":false}` and `{"type":"signal","signal":"SIGINT"}`; receive `stage`, `stdout`/`stderr` (`{seq, data}`) and last `exit` (`{exit_code, signal, timed_out, result}`), then close 1000. Errors: `{"type":"error","error":{…}}` and close 4000 + the HTTP status (docs/api.md).',
      tags: ['sessions'],
      params: SessionIdParams,
      response: { 101: { description: 'Switching Protocols: the WebSocket is open', type: 'null' }, '4xx': ErrorBodySchema },
    },
    handler: upgradeRequired('v1'),
    wsHandler: (socket, request) => serveProcess(socket, deps, ownerOf(request), (request.params as { id: string }).id, request.id),
  });
}
