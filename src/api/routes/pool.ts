import { Type } from 'typebox';
import type { Api, RouteDeps } from '../types.js';

export async function poolRoutes(app: Api, { service }: RouteDeps): Promise<void> {
  app.get(
    '/api/v1/pool',
    {
      schema: {
        operationId: 'getPool',
        summary: 'Warm pools of every backend offered: per backend and image target, idle, starting, hits, misses and evictions; idle counts and memory per backend and in all',
        tags: ['operations'],
        response: {
          200: Type.Object({
            enabled: Type.Boolean(),
            images: Type.Array(
              Type.Object({
                backend: Type.String(),
                image: Type.String(),
                target: Type.Integer(),
                idle: Type.Integer(),
                starting: Type.Integer(),
                hits: Type.Integer(),
                misses: Type.Integer(),
                evicted: Type.Integer({ description: 'idle sandboxes destroyed to make room for the default backend\'s pool (they share one budget)' }),
                last_used: Type.Union([Type.String(), Type.Null()]),
              }),
            ),
            backends: Type.Array(Type.Object({ backend: Type.String(), idle_total: Type.Integer(), idle_memory_bytes: Type.Integer() })),
            idle_total: Type.Integer(),
            max_idle: Type.Integer(),
            idle_memory_bytes: Type.Integer(),
          }),
        },
      },
    },
    async () => {
      const stats = await service.poolStats();
      return stats ? { enabled: true, ...stats } : { enabled: false, images: [], backends: [], idle_total: 0, max_idle: 0, idle_memory_bytes: 0 };
    },
  );
}
