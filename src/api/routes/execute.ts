import { Type } from 'typebox';
import type { ExecuteRequest } from '../../engine/request.js';
import { LIMIT_OPTIONS, type LimitRequest } from '../../engine/limits.js';
import { ExecutionResultSchema } from '../../engine/result-schema.js';
import { disconnectSignal } from '../disconnect.js';
import { statusOf } from '../http-errors.js';
import { ErrorBodySchema } from '../schemas/common.js';
import { ExecutionEventStream, wantsEventStream } from '../sse.js';
import { resultOrEventStream } from '../schemas/event-stream.js';
import { ExecuteBodySchema, type ExecuteBody } from '../schemas/execute.js';
import type { Api, RouteDeps } from '../types.js';

/** The API's limit fields (ms, MiB, bytes) as the engine's LimitRequest. */
export function limitRequest(body: { timeout?: number; compile_timeout?: number; memory?: number; pids?: number; output_limit?: number }): LimitRequest {
  const fields = body as Record<string, number | undefined>;
  const limits: LimitRequest = {};
  for (const option of LIMIT_OPTIONS) {
    const value = fields[option.field];
    if (value !== undefined) limits[option.key] = value;
  }
  return limits;
}

function toExecuteRequest(body: ExecuteBody): ExecuteRequest {
  const request: ExecuteRequest = { language: body.language, limits: limitRequest(body) };
  if (body.code !== undefined) request.code = body.code;
  if (body.files !== undefined) request.files = body.files.map((f) => ({ name: f.name, content: f.content, ...(f.encoding ? { encoding: f.encoding } : {}) }));
  if (body.entry !== undefined) request.entry = body.entry;
  if (body.stdin !== undefined) request.stdin = body.stdin;
  if (body.args !== undefined) request.args = body.args;
  if (body.env !== undefined) request.env = body.env;
  if (body.output_encoding !== undefined) request.outputEncoding = body.output_encoding;
  if (body.image !== undefined) request.image = body.image;
  return request;
}

export async function executeRoutes(app: Api, { service }: RouteDeps): Promise<void> {
  app.post(
    '/api/v1/execute',
    {
      schema: {
        operationId: 'execute',
        summary: 'Run a program in a fresh sandbox',
        description:
          'Returns the result object. A program that fails, times out or runs out of memory is still a 200 with `status: "success"`; `status: "failed"` (HTTP 5xx) means the service itself failed. ' +
          'With `Accept: text/event-stream` the reply is a stream of Server-Sent Events while the program runs: `stage`, `stdout`, `stderr`, then `result` (docs/api.md).',
        tags: ['execute'],
        body: ExecuteBodySchema,
        response: { 200: resultOrEventStream(ExecutionResultSchema), '4xx': ErrorBodySchema, '5xx': Type.Union([ExecutionResultSchema, ErrorBodySchema]) },
      },
    },
    async (request, reply) => {
      const { backend } = request.body;
      const options = { traceId: request.id, signal: disconnectSignal(reply), ...(backend ? { backend } : {}) };
      if (wantsEventStream(request)) {
        const events = new ExecutionEventStream(reply, request.body.output_encoding);
        try {
          return events.finish(await service.execute(toExecuteRequest(request.body), { ...options, stream: events.handlers }));
        } catch (err) {
          return events.fail(err);
        }
      }
      const result = await service.execute(toExecuteRequest(request.body), options);
      if (result.error) reply.code(statusOf(result.error.code));
      return result;
    },
  );
}
