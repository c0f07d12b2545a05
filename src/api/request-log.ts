import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';

/**
 * One log line per request, when it completes (Fastify logs two by default): method, path (cut to
 * 200 characters), status and time, with the request's trace id as `reqId`. Header values and
 * bodies are never logged.
 */
export class RequestLog extends LogController {
  override incomingRequest(): void {
    // logged once, on completion
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const line = { method: request.method, url: request.url.slice(0, 200), status: reply.statusCode, ms: Math.round(reply.elapsedTime * 100) / 100 };
    if (error) reply.log.error({ ...line, err: error }, 'request failed');
    else reply.log.info(line, 'request');
  }
}
