import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { API_KEY_SCHEMES, type KeySource } from '../auth.js';
import type { Api } from '../types.js';

/**
 * The OpenAPI 3 document, generated from the same schemas the routes validate with, at
 * /openapi.json, and a browsable page at /docs.
 */
export async function registerDocs(app: Api, keys: Pick<KeySource, 'mayHaveKeys'>): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Runner Codes API',
        version: '0.1.0',
        description: 'Run untrusted code in fresh sandboxes. See docs/api.md.',
        license: { name: 'Apache-2.0', url: 'https://www.apache.org/licenses/LICENSE-2.0' },
      },
      // Relative: the document describes the server that serves it, at whatever address it was reached.
      servers: [{ url: '/', description: 'this server' }],
      // Each operation's `security` says whether it needs a key on this server (auth.ts); a server
      // that can have no keys has no scheme to name.
      components: keys.mayHaveKeys ? { securitySchemes: API_KEY_SCHEMES } : {},
      tags: [
        { name: 'execute', description: 'Run programs' },
        { name: 'languages', description: 'The language catalog' },
        { name: 'sessions', description: 'Sandboxes that live across calls: files and processes persist between executions' },
        { name: 'piston', description: 'Piston v2 compatible endpoints' },
        { name: 'operations', description: 'Health, readiness, metrics' },
      ],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { config: { rateLimit: false }, schema: { hide: true } }, async () => app.swagger());
}
