import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import { printable } from '../safe-text.js';

/** An error as log fields, with its message made printable (messages can quote caller input). */
export function loggableError(err: Error & { code?: unknown }): Record<string, unknown> {
  return { type: err.name, code: err.code, message: printable(err.message, 1000), stack: err.stack?.split('\n').slice(1).join('\n') };
}

/**
 * One log line per request, when it completes (Fastify logs two by default): method, path (cut to
 * 200 characters, control characters escaped), status and time, with the request's trace id as
 * `reqId` (client-chosen ids are kept only when plain, see app.ts). Header values and bodies are
 * never logged.
 */
export class RequestLog extends LogController {
  override incomingRequest(): void {
    // logged once, on completion
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const line = { method: request.method, url: printable(request.url, 200), status: reply.statusCode, ms: Math.round(reply.elapsedTime * 100) / 100 };
    if (error) reply.log.error({ ...line, err: loggableError(error) }, 'request failed');
    else reply.log.info(line, 'request');
  }
}
