import { Type } from 'typebox';
import type { Api, RouteDeps } from '../types.js';

export async function poolRoutes(app: Api, { service }: RouteDeps): Promise<void> {
  app.get(
    '/api/v1/pool',
    {
      schema: {
        operationId: 'getPool',
        summary: 'Warm pool state: per image target, idle, starting, hits and misses; idle memory',
        tags: ['operations'],
        response: {
          200: Type.Object({
            enabled: Type.Boolean(),
            images: Type.Array(
              Type.Object({
                image: Type.String(),
                target: Type.Integer(),
                idle: Type.Integer(),
                starting: Type.Integer(),
                hits: Type.Integer(),
                misses: Type.Integer(),
                last_used: Type.Union([Type.String(), Type.Null()]),
              }),
            ),
            idle_total: Type.Integer(),
            max_idle: Type.Integer(),
            idle_memory_bytes: Type.Integer(),
          }),
        },
      },
    },
    async () => {
      const stats = await service.poolStats();
      return stats ? { enabled: true, ...stats } : { enabled: false, images: [], idle_total: 0, max_idle: 0, idle_memory_bytes: 0 };
    },
  );
}
