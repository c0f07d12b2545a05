import { Type, type Static } from 'typebox';
import { DEFAULT_LIMITS, type Limits } from '../../engine/limits.js';
import { ErrorCodes, RunnerError } from '../../errors.js';
import type { ImageStore } from '../../images/store.js';
import { LANGUAGES } from '../../languages/catalog.js';
import { findLanguage } from '../../languages/lookup.js';
import type { LanguageSpec } from '../../languages/types.js';
import { ErrorBodySchema } from '../schemas/common.js';
import { LanguageSchema } from '../schemas/languages.js';
import type { Api, RouteDeps } from '../types.js';

type Language = Static<typeof LanguageSchema>;

/** A catalog entry as the API shows it: what is installed here, and its default limits. */
export function describeLanguage(lang: LanguageSpec, images: ImageStore): Language {
  const manifest = images.manifest(lang.image);
  const limits: Limits = { ...DEFAULT_LIMITS, ...lang.limits };
  return {
    id: lang.id,
    aliases: [...lang.aliases],
    name: lang.name,
    version: manifest?.versions[lang.id] ?? null,
    installed: manifest !== null,
    limits: {
      timeout: limits.runTimeoutMs,
      compile_timeout: limits.compileTimeoutMs,
      memory: Math.round(limits.memoryBytes / (1024 * 1024)),
      pids: limits.pids,
      output_limit: limits.outputBytes,
    },
  };
}

export async function languageRoutes(app: Api, { executor }: RouteDeps): Promise<void> {
  const images = executor.engine.images;
  app.get(
    '/api/v1/languages',
    { schema: { summary: 'Every language in the catalog', tags: ['languages'], response: { 200: Type.Array(LanguageSchema) } } },
    async () => LANGUAGES.map((lang) => describeLanguage(lang, images)),
  );
  app.get(
    '/api/v1/languages/:id',
    {
      schema: {
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
