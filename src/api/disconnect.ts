import type { FastifyReply } from 'fastify';

/**
 * A signal that aborts when the client goes away before the reply is sent, so a queued execution
 * is dropped without running and a running one has its sandbox destroyed.
 */
export function disconnectSignal(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return controller.signal;
}
