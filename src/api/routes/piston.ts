import { Type } from 'typebox';
import { allLanguages } from '../../languages/lookup.js';
import { disconnectSignal } from '../disconnect.js';
import { throwIfFailed } from '../http-errors.js';
import { pistonStage, pistonToRequest, resolvePistonRuntime, runStageOf } from '../piston.js';
import { PistonErrorSchema, PistonExecuteBodySchema, PistonExecuteResultSchema, PistonRuntimeSchema } from '../schemas/piston.js';
import type { Api, RouteDeps } from '../types.js';

export async function pistonRoutes(app: Api, { service }: RouteDeps): Promise<void> {
  const images = service.images;
  const piston = { errorFormat: 'piston' } as const;

  app.get(
    '/api/v2/runtimes',
    { config: piston, schema: { operationId: 'pistonListRuntimes', summary: 'Installed runtimes (Piston v2)', tags: ['piston'], response: { 200: Type.Array(PistonRuntimeSchema) } } },
    async () =>
      allLanguages().flatMap((lang) => {
        const version = images.manifest(lang.image)?.versions[lang.id];
        return version ? [{ language: lang.id, version, aliases: [...lang.aliases] }] : [];
      }),
  );

  app.post(
    '/api/v2/execute',
    {
      config: piston,
      schema: {
        operationId: 'pistonExecute',
        summary: 'Run a program (Piston v2)',
        tags: ['piston'],
        body: PistonExecuteBodySchema,
        response: { 200: PistonExecuteResultSchema, '4xx': PistonErrorSchema, '5xx': PistonErrorSchema },
      },
    },
    async (request, reply) => {
      const { language, version } = resolvePistonRuntime(request.body, images);
      const result = await service.execute(pistonToRequest(request.body, language), { traceId: request.id, signal: disconnectSignal(reply) });
      throwIfFailed(result);
      return {
        language: language.id,
        version,
        run: pistonStage(runStageOf(result)),
        ...(result.compile ? { compile: pistonStage(result.compile) } : {}),
      };
    },
  );
}
