import { Type } from 'typebox';
import { allLanguages } from '../../languages/lookup.js';
import type { Api, RouteDeps } from '../types.js';

const Readiness = Type.Object({
  ready: Type.Boolean(),
  backend: Type.String({ description: 'the default backend' }),
  backends: Type.Array(Type.String(), { description: 'every backend a request may pick, the default first' }),
  languages: Type.Array(Type.String()),
});

export async function operationsRoutes(app: Api, { service, metrics }: RouteDeps): Promise<void> {
  const open = { rateLimit: false } as const;
  app.get(
    '/health',
    { config: open, schema: { operationId: 'getHealth', summary: 'Liveness', tags: ['operations'], response: { 200: Type.Object({ status: Type.Literal('ok') }) } } },
    async () => ({ status: 'ok' as const }),
  );
  app.get(
    '/ready',
    {
      config: open,
      schema: {
        operationId: 'getReadiness',
        summary: 'Readiness: the backend is usable and at least one language image is present',
        tags: ['operations'],
        response: {
          '2xx': Readiness,
          '5xx': Readiness,
        },
      },
    },
    async (_request, reply) => {
      const installed = allLanguages().filter((lang) => service.images.manifest(lang.image) !== null).map((lang) => lang.id);
      const ready = installed.length > 0 && !service.closed;
      reply.code(ready ? 200 : 503);
      return { ready, backend: service.backendName, backends: [...service.backendNames], languages: installed };
    },
  );
  app.get('/metrics', { config: open, schema: { operationId: 'getMetrics', summary: 'Prometheus metrics', tags: ['operations'] } }, async (_request, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}
