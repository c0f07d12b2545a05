/** Types of the declarative language catalog (see catalog.ts and docs/languages.md). */

/**
 * An image recipe: what one layer adds on top of its parent image, in this order:
 * Debian packages, npm packages, the files under `src/images/layers/<id>/rootfs/`, and
 * finally `src/images/layers/<id>/setup.sh` run inside the layer (e.g. to initialise a database).
 */
export interface ImageRecipe {
  /** Image id, used as the directory name under `$RUNNER_CODES_HOME/images`. */
  id: string;
  /** Parent image id; only the base image has none. */
  parent?: string;
  /**
   * Debian packages installed into this layer (`apt-get install --no-install-recommends`);
   * `name/bookworm-backports` takes the package from backports.
   */
  packages: string[];
  /** Packages from the npm registry that ship prebuilt binaries or pure JavaScript. */
  npm?: readonly NpmPackage[];
  description: string;
}

/**
 * An npm package unpacked into the image's shared tree `/opt/runner-codes/npm/node_modules/<name>`
 * (one node_modules tree, so packages that depend on each other resolve normally).
 */
export interface NpmPackage {
  /** Exact `name@version`: images are reproducible only with pinned versions. */
  spec: string;
  /** Commands linked into /usr/local/bin: command name → path inside the package. */
  bin?: Readonly<Record<string, string>>;
}

/** Placeholders in argv templates:
 *  - `{file}`    the entry file (relative to the work dir)
 *  - `{stem}`    the entry file's name without its extension (Java's main class)
 *  - `{noext}`   the entry file without its extension, directories kept (`lib/app.ts` → `lib/app`)
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
  /** Size of the /work and /tmp tmpfs mounts (database servers copy their data directory there). */
  diskBytes?: number;
}

export interface ConformanceCase {
  /** Source of the entry file. */
  code: string;
  stdin: string;
  /** Exact expected stdout. */
  stdout: string;
}

/** How a language runs; the test suite checks errors, stdin, unicode and exit codes per family. */
export type LanguageFamily = 'interpreted' | 'compiled' | 'jvm' | 'beam' | 'database';

/** A syscall ABI besides x86_64 (always admitted) that a language's programs may use. */
export type ExtraSyscallAbi = 'i386';

export interface LanguageSpec {
  id: string;
  name: string;
  family: LanguageFamily;
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
  /**
   * Syscall ABIs besides x86_64 that the sandbox's seccomp filter admits (nasm: 32-bit programs
   * calling `int 0x80`). Sandboxes start per image, so the filter follows the image: a language
   * that needs one has an image of its own (the catalog tests check it).
   */
  syscallAbis?: readonly ExtraSyscallAbi[];
  /** argv printing the toolchain's version; the first `x.y[.z]` in its output is the version. */
  versionProbe: ArgvTemplate;
  /** Program that reads a line and prints `Hello, <line>!` and 5050. */
  conformance: ConformanceCase;
  /** A program that must fail to compile (compiled languages only), and a piece of the diagnostic. */
  compileError?: { code: string; message: string };
}
