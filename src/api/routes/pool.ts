import { Type } from 'typebox';
import type { Api, RouteDeps } from '../types.js';

export async function poolRoutes(app: Api, { service }: RouteDeps): Promise<void> {
  app.get(
    '/api/v1/pool',
    {
      schema: {
        operationId: 'getPool',
        summary: 'Warm pools of every backend offered: per backend and image target, idle, starting, hits, misses, evictions, idle memory and the memory one more idle sandbox is expected to take; idle counts and memory per backend and in all',
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
                evicted: Type.Integer({ description: 'idle sandboxes destroyed to make room for a higher-ranked backend\'s pool (all share one budget; the default backend ranks first)' }),
                last_used: Type.Union([Type.String(), Type.Null()]),
                idle_memory_bytes: Type.Integer({ description: 'memory charged to its idle sandboxes\' cgroups now' }),
                expected_memory_bytes: Type.Integer({
                  description: 'what the memory cap expects one more idle sandbox of this image to take: the most one was seen charged idle (0 until one is measured; a start that would not fit is not made)',
                }),
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
