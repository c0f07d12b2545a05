import { InvalidRequestError } from '../errors.js';
import type { ArgvTemplate, LanguageSpec, UnitNaming } from './types.js';

/** A submitted file as the engine holds it after validation. */
export interface SourceFile {
  path: string;
  content: Buffer;
  executable: boolean;
}

/** How this program is built and run: the language's own templates, or those of the form its entry is written in. */
export interface ProgramForm {
  compile?: ArgvTemplate;
  run: ArgvTemplate;
  unitNaming?: UnitNaming;
  unsupported?: string;
}

/** What a unit-derived file stem may look like: no separators, no leading '-' or '.', nothing to quote. */
const SAFE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/**
 * Only the start of a source decides its names: the patterns run on untrusted text of up to the
 * files maximum, and a program's unit declarations come long before this.
 */
const SCANNED_BYTES = 256 * 1024;

const compiled = new Map<string, RegExp>();
function regex(pattern: string): RegExp {
  let re = compiled.get(pattern);
  if (!re) compiled.set(pattern, (re = new RegExp(pattern, 'm')));
  return re;
}

/** The part of a source that decides its names and form. */
export function leadingText(file: SourceFile): string {
  return file.content.subarray(0, SCANNED_BYTES).toString('utf8');
}

/** The first form of the language whose test the entry's source passes, else the language's own. */
export function programForm(language: LanguageSpec, entrySource: string): ProgramForm {
  for (const form of language.forms ?? []) {
    // Every test the form states must pass (a form states at least one).
    const matches = form.matches === undefined || regex(form.matches).test(entrySource);
    const lacks = form.lacks === undefined || !regex(form.lacks).test(entrySource);
    if (matches && lacks) {
      const { compile, run = language.run, unitNaming, unsupported } = form;
      return { compile, run, unitNaming, unsupported };
    }
  }
  return { compile: language.compile, run: language.run, unitNaming: language.unitNaming };
}

/** The unit group 1 of the first matching pattern captures, in the file naming's case. */
function unitOf(patterns: readonly string[], source: string, naming: UnitNaming): string | undefined {
  for (const pattern of patterns) {
    const unit = regex(pattern).exec(source)?.[1];
    if (unit) return naming.case === 'gnat' ? unit.toLowerCase().replaceAll('.', '-') : unit;
  }
  return undefined;
}

/** `dir/`, stem and extension (one of the language's, else the file's last) of a path. */
function splitPath(path: string, language: LanguageSpec): { dir: string; stem: string; ext: string } {
  const slash = path.lastIndexOf('/');
  const dir = path.slice(0, slash + 1);
  const base = path.slice(slash + 1);
  const ext = language.extensions.find((e) => base.endsWith(e) && base.length > e.length) ?? /\.[^.]*$/.exec(base)?.[0] ?? '';
  return { dir, stem: base.slice(0, base.length - ext.length), ext };
}

/** The name a file must have for its toolchain, or its own name when nothing ties it. */
function derivedPath(file: SourceFile, isEntry: boolean, language: LanguageSpec, naming: UnitNaming | undefined): string {
  let { dir, stem, ext } = splitPath(file.path, language);
  // An entry without one of the language's extensions is not recognised as a source (tsc, gcc, gnatmake).
  if (isEntry && !language.extensions.includes(ext)) {
    stem += ext;
    ext = language.extensions[0]!;
  }
  if (!naming) return `${dir}${stem}${ext}`;
  const isSource = language.extensions.includes(ext);
  if (!isEntry && !isSource) return file.path;
  const source = leadingText(file);
  const unit = unitOf(naming.sources ?? [], source, naming) ?? (isEntry ? unitOf(naming.entry ?? [], source, naming) : undefined);
  if (unit !== undefined) {
    if (SAFE_NAME.test(unit)) return `${dir}${unit}${ext}`;
  } else if (isEntry && naming.identifierStem) {
    stem = stem.replace(/[^A-Za-z0-9_]/g, '_').replace(/^(?=[0-9])/, '_');
  }
  return `${dir}${stem}${ext}`;
}

/**
 * Renames the submitted files to the names their toolchain derives from their code (Java's public
 * class, Erlang's module, Ada's unit, ...), whatever names the caller gave, and refuses a form of
 * program that cannot run here. Other files keep their names. `field(i, part)` names file i's name
 * or content in errors.
 */
export function nameSourcesAfterUnits(
  language: LanguageSpec,
  files: readonly SourceFile[],
  entry: string,
  field: (index: number, part: 'name' | 'content') => string,
): { files: SourceFile[]; entry: string } {
  const entryIndex = files.findIndex((file) => file.path === entry);
  const form = programForm(language, leadingText(files[entryIndex]!));
  if (form.unsupported) throw new InvalidRequestError(field(entryIndex, 'content'), form.unsupported);
  const renamed = files.map((file, index) => ({ ...file, path: derivedPath(file, index === entryIndex, language, form.unitNaming) }));
  const owner = new Map<string, number>();
  renamed.forEach((file, index) => {
    const other = owner.get(file.path);
    if (other !== undefined) {
      const clash = files[other]!.path === file.path ? 'but another file already has that name' : `and so must '${files[other]!.path}'`;
      throw new InvalidRequestError(field(index, 'name'), `'${files[index]!.path}' must be named '${file.path}' for its code, ${clash}`);
    }
    owner.set(file.path, index);
  });
  return { files: renamed, entry: renamed[entryIndex]!.path };
}
