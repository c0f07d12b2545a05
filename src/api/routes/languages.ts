import { Type } from 'typebox';
import { ErrorCodes, RunnerError } from '../../errors.js';
import { allLanguages, findLanguage } from '../../languages/lookup.js';
import { describeLanguage } from '../../engine/describe-language.js';
import { ErrorBodySchema } from '../schemas/common.js';
import { LanguageSchema } from '../schemas/languages.js';
import type { Api, RouteDeps } from '../types.js';

export async function languageRoutes(app: Api, { service }: RouteDeps): Promise<void> {
  const images = service.images;
  app.get(
    '/api/v1/languages',
    { schema: { operationId: 'listLanguages', summary: 'Every language in the catalog', tags: ['languages'], response: { 200: Type.Array(LanguageSchema) } } },
    async () => allLanguages().map((lang) => describeLanguage(lang, images)),
  );
  app.get(
    '/api/v1/languages/:id',
    {
      schema: {
        operationId: 'getLanguage',
        summary: 'One language, by id or alias',
        tags: ['languages'],
        params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
        response: { 200: LanguageSchema, 404: ErrorBodySchema },
      },
    },
    async (request) => {
      const lang = findLanguage(request.params.id);
      if (!lang) throw new RunnerError(ErrorCodes.NOT_FOUND, `unsupported language '${request.params.id}'`);
      return describeLanguage(lang, images);
    },
  );
}
