import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Api } from '../types.js';

/**
 * The OpenAPI 3 document, generated from the same schemas the routes validate with, at
 * /openapi.json, and a browsable page at /docs.
 */
export async function registerDocs(app: Api): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Runner Codes API', version: '0.1.0', description: 'Run untrusted code in fresh sandboxes. See docs/api.md.' },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'only when the server has API keys' },
          apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
        },
      },
      tags: [
        { name: 'execute', description: 'Run programs' },
        { name: 'languages', description: 'The language catalog' },
        { name: 'piston', description: 'Piston v2 compatible endpoints' },
        { name: 'operations', description: 'Health, readiness, metrics' },
      ],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { config: { rateLimit: false }, schema: { hide: true } }, async () => app.swagger());
}
