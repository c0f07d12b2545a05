import { constants } from 'node:os';
import { StringDecoder } from 'node:string_decoder';
import { Compile } from 'typebox/compile';
import type {} from '@fastify/websocket';
import type { WebSocket } from 'ws';
import type { ExecutionResult } from '../../engine/result.js';
import { InvalidRequestError, RunnerError, type ErrorCode } from '../../errors.js';
import { toHttpError } from '../http-errors.js';
import { SocketExecution, upgradeRequired } from '../socket-execution.js';
import { pistonStage, pistonToRequest, resolvePistonRuntime, runStageOf } from '../piston.js';
import { PistonErrorSchema, PistonExecuteBodySchema, type PistonExecuteBody } from '../schemas/piston.js';
import type { Api, RouteDeps } from '../types.js';

/**
 * Piston's close codes and reasons, as its server sends them (engineer-man/piston,
 * api/src/api/v2.js, `router.ws('/connect', …)`): a client written for Piston reads these.
 */
export const PISTON_CLOSE = {
  alreadyInitialized: [4000, 'Already Initialized'],
  initializationTimeout: [4001, 'Initialization Timeout'],
  notifiedError: [4002, 'Notified Error'],
  notYetInitialized: [4003, 'Not yet initialized'],
  canOnlyWriteToStdin: [4004, 'Can only write to stdin'],
  invalidSignal: [4005, 'Invalid signal'],
  jobCompleted: [4999, 'Job Completed'],
} as const satisfies Record<string, readonly [number, string]>;

/** Piston closes a socket that sent no `init` within a second. */
export const PISTON_INIT_TIMEOUT_MS = 1000;

const checkInit = Compile(PistonExecuteBodySchema);

/** The `init` message's job, as POST /api/v2/execute would take it, or an error naming the field. */
function initBody(message: Record<string, unknown>): PistonExecuteBody {
  const { type: _type, ...body } = message;
  if (checkInit.Check(body)) return body;
  const error = [...checkInit.Errors(body)].find((e) => e.keyword !== 'boolean');
  const field = (error?.instancePath ?? '').replace(/^\//, '').replace(/\/(\d+)(?=\/|$)/g, '[$1]').replaceAll('/', '.') || 'init';
  const extra = (error?.params as { additionalProperties?: string[] } | undefined)?.additionalProperties;
  throw new InvalidRequestError(field, extra ? `unknown field '${extra[0]}'` : (error?.message ?? 'is not a valid init message'));
}

/** Piston's signals are names (`SIGKILL`); Linux's, as numbers for the agent. */
function signalNumber(name: unknown): number | undefined {
  if (typeof name !== 'string' || !/^SIG[A-Z0-9]+$/.test(name)) return undefined;
  return (constants.signals as Record<string, number>)[name];
}

/** The last stage's `exit` event, as Piston reports a stage (`code` null when a signal ended it). */
function exitOf(result: ExecutionResult, stage: string): { type: 'exit'; stage: string; code: number | null; signal: string | null } {
  const outcome = pistonStage(stage === 'compile' && result.compile ? result.compile : runStageOf(result));
  return { type: 'exit', stage, code: outcome.code, signal: outcome.signal };
}

/**
 * One Piston connection: `init` starts the job (answered by `runtime`), then `stage`, `data` and
 * `exit` events as it runs; the client's `data` (stream stdin) feeds the run stage's stdin and its
 * `signal` goes to the program. The socket closing cancels the execution (its sandbox destroyed).
 */
function serveConnection(socket: WebSocket, { service }: RouteDeps, traceId: string): void {
  const run = new SocketExecution(socket, PISTON_INIT_TIMEOUT_MS, PISTON_CLOSE.initializationTimeout);
  const send = (message: unknown): void => run.send(message);
  const close = (code: readonly [number, string]): void => run.close(code);
  // Piston's way: the reason of a close frame is short, so the message goes first as an event.
  const notify = (err: unknown): void => {
    send({ type: 'error', message: toHttpError(err).message });
    close(PISTON_CLOSE.notifiedError);
  };

  const start = async (message: Record<string, unknown>): Promise<void> => {
    run.start();
    const body = initBody(message);
    const { language, version } = resolvePistonRuntime(body, service.images);
    const request = pistonToRequest(body, language);
    send({ type: 'runtime', language: language.id, version });
    const decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
    let stage: string | undefined;
    const result = await service.execute(request, {
      traceId,
      signal: run.signal,
      input: run.input,
      stream: {
        onStage: (next) => {
          // A later stage starts only after every earlier one exited 0.
          if (stage) send({ type: 'exit', stage, code: 0, signal: null });
          stage = next;
          send({ type: 'stage', stage: next });
        },
        onOutput: (stream, data) => {
          const text = decoders[stream].write(data);
          if (text) send({ type: 'data', stream, data: text });
        },
      },
    });
    if (result.error) throw new RunnerError(result.error.code as ErrorCode, result.error.message);
    for (const stream of ['stdout', 'stderr'] as const) {
      const rest = decoders[stream].end();
      if (rest) send({ type: 'data', stream, data: rest });
    }
    send(exitOf(result, stage ?? 'run'));
    close(PISTON_CLOSE.jobCompleted);
  };

  socket.on('message', (raw: Buffer) => {
    if (run.state === 'done') return;
    let message: unknown;
    try {
      message = JSON.parse(raw.toString('utf8'));
    } catch {
      return notify(new InvalidRequestError('message', 'is not valid JSON'));
    }
    if (message === null || typeof message !== 'object' || Array.isArray(message)) return notify(new InvalidRequestError('message', 'must be a JSON object'));
    const msg = message as Record<string, unknown>;
    try {
      switch (msg.type) {
        case 'init':
          if (run.state !== 'waiting') return close(PISTON_CLOSE.alreadyInitialized);
          return void start(msg).catch(notify);
        case 'data':
          if (run.state === 'waiting') return close(PISTON_CLOSE.notYetInitialized);
          if (msg.stream !== 'stdin') return close(PISTON_CLOSE.canOnlyWriteToStdin);
          if (typeof msg.data !== 'string') throw new InvalidRequestError('data', 'must be a string');
          return run.input.write(Buffer.from(msg.data, 'utf8'));
        case 'signal': {
          if (run.state === 'waiting') return close(PISTON_CLOSE.notYetInitialized);
          const signal = signalNumber(msg.signal);
          if (signal === undefined) return close(PISTON_CLOSE.invalidSignal);
          return run.input.signal(signal);
        }
        default:
        // Piston ignores messages of other types.
      }
    } catch (err) {
      notify(err);
    }
  });
}

export async function pistonConnectRoutes(app: Api, deps: RouteDeps): Promise<void> {
  app.route({
    method: 'GET',
    url: '/api/v2/connect',
    config: { errorFormat: 'piston' },
    schema: {
      operationId: 'pistonConnect',
      summary: 'Run a program interactively over a WebSocket (Piston v2)',
      description:
        'A WebSocket speaking Piston\'s messages: the client sends `{"type":"init", …}` (the body of POST /api/v2/execute) within a second; the server answers `runtime`, then `stage`, `data` and `exit` events; the client may send `{"type":"data","stream":"stdin","data":…}` and `{"type":"signal","signal":"SIGINT"}`. Close codes as Piston\'s: 4999 job completed, 4000–4005 protocol errors (docs/api.md).',
      tags: ['piston'],
      response: { 101: { description: 'Switching Protocols: the WebSocket is open', type: 'null' }, '4xx': PistonErrorSchema },
    },
    handler: upgradeRequired('piston'),
    wsHandler: (socket, request) => serveConnection(socket, deps, request.id),
  });
}
