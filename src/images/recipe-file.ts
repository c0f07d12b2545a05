import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { isCollection, isMap, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import { ErrorCodes, RunnerError } from '../errors.js';
import type { CatalogIssue } from '../languages/catalog-rules.js';
import { extensionIssues } from '../languages/extension-issues.js';
import { catalogExtensions } from '../languages/extensions.js';
import type { CatalogExtension } from '../languages/types.js';

/** Bigger than any sensible catalog file; the bound keeps a mistaken path from being read whole. */
const MAX_FILE_BYTES = 4 * 1024 * 1024;

/** One problem of a custom catalog file, where it is. */
export interface RecipeFileIssue {
  /** The field, as `languages[0].run[1]`. */
  field: string;
  line: number;
  column: number;
  message: string;
}

/** A custom catalog file that is not valid: every problem, each naming its field and line. */
export class RecipeFileError extends RunnerError {
  readonly issues: readonly RecipeFileIssue[];
  constructor(file: string, issues: readonly RecipeFileIssue[]) {
    const shown = issues.slice(0, 20).map((issue) => `  ${file}:${issue.line}:${issue.column}: ${issue.field || '(top level)'}: ${issue.message}`);
    const more = issues.length > shown.length ? [`  … and ${issues.length - shown.length} more`] : [];
    super(ErrorCodes.INVALID_REQUEST, `${file} is not a valid catalog file (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n${[...shown, ...more].join('\n')}`, {
      hint: 'fix the fields named above (docs/custom-images.md describes the file); nothing was built',
    });
    this.name = 'RecipeFileError';
    this.issues = issues;
  }
}

/**
 * Reads a custom catalog file (docs/custom-images.md): YAML, or JSON (which is YAML), parsed by the
 * `yaml` package so that every node keeps its source range and each problem names its line. The
 * checks are the built-in catalog's (extension-issues.ts) against the extensions this data home has.
 */
export async function readRecipeFile(path: string): Promise<CatalogExtension> {
  const name = basename(path);
  const size = await stat(path).then((s) => s.size, (err: NodeJS.ErrnoException) => {
    throw new RunnerError(ErrorCodes.INVALID_REQUEST, `--file: cannot read ${path}: ${err.code ?? err.message}`);
  });
  if (size > MAX_FILE_BYTES) throw new RunnerError(ErrorCodes.INVALID_REQUEST, `--file: ${path} is larger than ${MAX_FILE_BYTES / 1024 / 1024} MiB`);
  return parseRecipeFile(await readFile(path, 'utf8'), name);
}

/** Parses and validates the text of a custom catalog file; `name` is what errors call it. */
export function parseRecipeFile(text: string, name: string): CatalogExtension {
  const lines = new LineCounter();
  // uniqueKeys: a key given twice is an error, not a silent override; aliases are bounded (no "billion laughs").
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false, strict: true });
  const syntax = [...doc.errors, ...doc.warnings].map((error): RecipeFileIssue => {
    const at = lines.linePos(error.pos[0]);
    return { field: '', line: at.line, column: at.col, message: error.message.split('\n')[0]! };
  });
  if (syntax.length > 0) throw new RecipeFileError(name, syntax);
  const value: unknown = doc.toJS({ maxAliasCount: 100 });
  const issues = extensionIssues(value, catalogExtensions());
  if (issues.length > 0) throw new RecipeFileError(name, issues.map((issue) => locate(doc, lines, issue)).sort((a, b) => a.line - b.line || a.column - b.column));
  return value as CatalogExtension;
}

function locate(doc: Document, lines: LineCounter, issue: CatalogIssue): RecipeFileIssue {
  const at = lines.linePos(offsetOf(doc, issue.path));
  return { field: fieldName(issue.path), line: at.line, column: at.col, message: issue.message };
}

/** Where the node at `path` starts: its key when it is a map entry, or the nearest ancestor that exists. */
function offsetOf(doc: Document, path: CatalogIssue['path']): number {
  for (let depth = path.length; depth > 0; depth--) {
    const parent = depth === 1 ? doc.contents : doc.getIn(path.slice(0, depth - 1), true);
    const key = path[depth - 1]!;
    if (isMap(parent)) {
      const pair = parent.items.find((item) => isScalar(item.key) && item.key.value === key);
      if (pair && isScalar(pair.key) && pair.key.range) return pair.key.range[0];
    } else if (isCollection(parent)) {
      const node = parent.get(key, true) as { range?: [number, number, number] } | undefined;
      if (node?.range) return node.range[0];
    }
  }
  return (doc.contents as { range?: [number, number, number] } | null)?.range?.[0] ?? 0;
}

function fieldName(path: CatalogIssue['path']): string {
  return path.map((part, i) => (typeof part === 'number' ? `[${part}]` : i === 0 ? part : `.${part}`)).join('');
}
