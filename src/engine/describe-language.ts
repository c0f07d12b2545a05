import { languageLimits } from './limits.js';
import type { ImageStore } from '../images/store.js';
import type { LanguageFamily, LanguageSpec } from '../languages/types.js';

/** A catalog entry as users see it (CLI `languages --json`, `GET /api/v1/languages`). */
export interface LanguageInfo {
  id: string;
  aliases: string[];
  name: string;
  family: LanguageFamily;
  /** The toolchain version probed in this host's image; null when the image is not built. */
  version: string | null;
  installed: boolean;
  image_bytes: number;
  /** Default limits: ms, MiB, bytes. */
  limits: { timeout: number; compile_timeout: number; memory: number; pids: number; output_limit: number };
}

export function describeLanguage(lang: LanguageSpec, images: ImageStore): LanguageInfo {
  const manifest = images.manifest(lang.image);
  const limits = languageLimits(lang);
  return {
    id: lang.id,
    aliases: [...lang.aliases],
    name: lang.name,
    family: lang.family,
    version: manifest?.versions[lang.id] ?? null,
    installed: manifest !== null,
    image_bytes: manifest?.bytes ?? 0,
    limits: {
      timeout: limits.runTimeoutMs,
      compile_timeout: limits.compileTimeoutMs,
      memory: Math.round(limits.memoryBytes / (1024 * 1024)),
      pids: limits.pids,
      output_limit: limits.outputBytes,
    },
  };
}
