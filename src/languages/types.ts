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

/** A language's interpreter kernel: a program started once per session that runs cells (docs/kernels.md). */
export interface KernelSpec {
  /** LanguageSpec.id. */
  language: string;
  /** File under src/images/kernels/. */
  program: string;
  /** argv; `{program}` is replaced by the program's text (the kernel is never a file in the sandbox). */
  argv: readonly string[];
}
