import type { LanguageSpec } from './types.js';
import { BEAM } from './catalog/beam.js';
import { DATABASE } from './catalog/database.js';
import { JAVASCRIPT } from './catalog/javascript.js';
import { JVM } from './catalog/jvm.js';
import { NATIVE } from './catalog/native.js';
import { SCRIPTING } from './catalog/scripting.js';

export { IMAGES } from './catalog/images.js';
export { DEFAULT_KERNEL_LANGUAGE, KERNELS } from './catalog/kernels.js';
export { PRESTARTS } from './catalog/prestarts.js';

/**
 * The language catalog: data only, one file per family under catalog/. The engine turns an entry
 * into a job without any per-language code paths; adding a language means adding a row (and, if
 * needed, an image recipe in catalog/images.ts).
 */
export const LANGUAGES: readonly LanguageSpec[] = [...SCRIPTING, ...JAVASCRIPT, ...NATIVE, ...JVM, ...BEAM, ...DATABASE];

/** Languages whose images `infra.operator setup` builds by default. */
export const DEFAULT_LANGUAGES: readonly string[] = ['python', 'javascript', 'bash', 'c', 'cpp'];
