/**
 * Types of the declarative language catalog (see catalog.ts and docs/languages.md), derived from the
 * schemas in catalog-schema.ts: a custom catalog file is validated against the same shapes.
 */
import type { Static } from 'typebox';
import type {
  ArgvTemplateSchema,
  CatalogExtensionSchema,
  ConformanceCaseSchema,
  ExtraSyscallAbiSchema,
  ImageFileSchema,
  ImageRecipeSchema,
  LanguageFamilySchema,
  LanguageFormSchema,
  LanguageSpecSchema,
  LimitOverridesSchema,
  NamingCaseSchema,
  NpmPackageSchema,
  UnitNamingSchema,
} from './catalog-schema.js';

export type ImageRecipe = Static<typeof ImageRecipeSchema>;
export type ImageFile = Static<typeof ImageFileSchema>;
export type NpmPackage = Static<typeof NpmPackageSchema>;
export type ArgvTemplate = Static<typeof ArgvTemplateSchema>;
export type LimitOverrides = Static<typeof LimitOverridesSchema>;
export type ConformanceCase = Static<typeof ConformanceCaseSchema>;
export type UnitNaming = Static<typeof UnitNamingSchema>;
export type LanguageForm = Static<typeof LanguageFormSchema>;
export type NamingCase = Static<typeof NamingCaseSchema>;
export type LanguageFamily = Static<typeof LanguageFamilySchema>;
export type ExtraSyscallAbi = Static<typeof ExtraSyscallAbiSchema>;
export type LanguageSpec = Static<typeof LanguageSpecSchema>;
export type CatalogExtension = Static<typeof CatalogExtensionSchema>;

/**
 * How a language's interpreter is pre-started in a pooled sandbox (docs/prestart.md): started before
 * its job and waiting on fd 3, it then runs the job's program as a fresh interpreter would.
 */
export interface PrestartSpec {
  /** LanguageSpec.id (the first language of its image: a pool is per image). */
  language: string;
  /** File under src/images/prestart/. */
  program: string;
  /**
   * argv of the waiting interpreter: `{program}` is replaced by the program's text; `{boot}` by
   * `boot`, the file the agent writes the program to before it starts the interpreter (for a
   * runtime that loads it as a file, such as Node's `-r`).
   */
  argv: readonly string[];
  /** `/tmp/<dir>/<name>`: where `{boot}` is written (read-only for the program, in a directory it cannot list). */
  boot?: string;
}

/** A language's interpreter kernel: a program started once per session that runs cells (docs/kernels.md). */
export interface KernelSpec {
  /** LanguageSpec.id. */
  language: string;
  /** File under src/images/kernels/. */
  program: string;
  /** argv; `{program}` is replaced by the program's text (the kernel is never a file in the sandbox). */
  argv: readonly string[];
}
