/** Types of the declarative language catalog (see catalog.ts and docs/languages.md). */

/** An image recipe: Debian packages installed on top of a parent image. */
export interface ImageRecipe {
  /** Image id, used as the directory name under `$RUNNER_CODES_HOME/images`. */
  id: string;
  /** Parent image id; only the base image has none. */
  parent?: string;
  /** Debian packages installed into this layer (`apt-get install --no-install-recommends`). */
  packages: string[];
  description: string;
}

/** Placeholders in argv templates:
 *  - `{file}`    the entry file (relative to the work dir)
 *  - `{stem}`    the entry file's name without its extension (Java's main class)
 *  - `{sources}` every submitted file whose name ends with one of the language's `extensions`
 *                (expands to several arguments)
 *  - `{args}`    the caller's arguments (expands to zero or more arguments; run stage only)
 */
export type ArgvTemplate = readonly string[];

export interface LimitOverrides {
  runTimeoutMs?: number;
  compileTimeoutMs?: number;
  memoryBytes?: number;
  pids?: number;
  nofile?: number;
  stackBytes?: number;
}

export interface ConformanceCase {
  /** Source of the entry file. */
  code: string;
  stdin: string;
  /** Exact expected stdout. */
  stdout: string;
}

export interface LanguageSpec {
  id: string;
  name: string;
  aliases: readonly string[];
  /** Image id (ImageRecipe.id) this language runs in. */
  image: string;
  /** Default entry file name when a caller sends bare `code`. */
  fileName: string;
  /**
   * Derive the entry file name from the code instead (Java: the public class decides it): the first
   * match of `pattern` names the file `name` with `$1` replaced by the captured group.
   */
  fileNameFromCode?: { pattern: string; name: string };
  /** File name extensions of this language's sources, for `{sources}`. */
  extensions: readonly string[];
  compile?: ArgvTemplate;
  run: ArgvTemplate;
  /** Extra environment for both stages (added to PATH, HOME, LANG). */
  env?: Readonly<Record<string, string>>;
  limits?: LimitOverrides;
  /** argv printing the toolchain's version; the first `x.y[.z]` in its output is the version. */
  versionProbe: ArgvTemplate;
  /** Program that reads a line and prints `Hello, <line>!` and 5050. */
  conformance: ConformanceCase;
  /** A program that must fail to compile (compiled languages only). */
  compileError?: { code: string };
}
