import type { Engine } from '../../src/engine/engine.js';
import { getLanguage } from '../../src/languages/lookup.js';

/**
 * The `skip` option for a test that needs a language's image. Locally, tests of languages whose
 * image is not built are skipped with the command that builds it. Under CI (CI=true) nothing is
 * skipped: .ci/run builds every image the suite uses, so a missing one must fail, not hide.
 */
export function skipUnlessBuilt(engine: Engine, languageId: string): string | false {
  const language = getLanguage(languageId);
  if (engine.images.manifest(language.image) || process.env.CI === 'true') return false;
  return `image '${language.image}' is not built (infra.operator rootfs build --lang ${language.id})`;
}
