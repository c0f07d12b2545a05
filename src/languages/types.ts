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

/**
 * How a source file's name follows from its code. A file is renamed after the unit that group 1 of the
 * first matching regex captures (regexes in multi-line mode), keeping its directory and extension;
 * a file none matches keeps its name.
 */
export interface UnitNaming {
  /** The toolchain requires every source of the language to be named after this unit (javac's public class, erlc's -module). */
  sources?: readonly string[];
  /** Tried on the entry after `sources`: the unit that runs, which the argv templates name by `{stem}`. */
  entry?: readonly string[];
  /** `gnat`: GNAT's file naming, lower case with a child unit's dots as `-` (`Foo.Bar` → `foo-bar`). */
  case?: 'gnat';
  /** The entry's stem names its unit when no regex matches, so it must be an identifier (`my-prog.d` → `my_prog.d`). */
  identifierStem?: boolean;
}

/** A form of program chosen by the entry's source: it matches `matches` and has no match for `lacks` (either may be absent, not both). */
export interface LanguageForm {
  /** What people call this form, for documentation and messages. */
  name: string;
  /** Regex (multi-line mode) the entry's source matches in this form. */
  matches?: string;
  /** Regex (multi-line mode) the entry's source never matches in this form. */
  lacks?: string;
  /** Replaces the language's compile stage (absent: no compile stage). */
  compile?: ArgvTemplate;
  run?: ArgvTemplate;
  unitNaming?: UnitNaming;
  /** The form cannot run here: the request is refused with this message (which says why and what works). */
  unsupported?: string;
}

/** A program under a file name its code does not imply, and what it must print (or the error it must get). */
export interface NamingCase {
  /** What the case shows, e.g. "public class Main in test.java". */
  title: string;
  /** `content` absent: the language's conformance program. */
  files: readonly { name: string; content?: string }[];
  stdin?: string;
  /** Exact expected stdout. */
  stdout?: string;
  /** For an unsupported form: a piece of the request error's message. */
  error?: string;
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
   * Where the toolchain ties a file's name to the unit its source defines (javac's public class,
   * erlc's module, gnatmake's library unit, haxe's module): the engine renames such files after their
   * unit, whatever name the caller gave (see unit-names.ts).
   */
  unitNaming?: UnitNaming;
  /**
   * Other forms of program the language accepts, told apart by the entry's source; the first that
   * matches replaces `compile`, `run` and `unitNaming` (Erlang's escript form, Scala 3's `@main`, NASM's 32-bit code).
   */
  forms?: readonly LanguageForm[];
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
  /** Programs as people submit them, under file names that differ from the names the code implies. */
  namingCases?: readonly NamingCase[];
  /** A program that must fail to compile (compiled languages only), and a piece of the diagnostic. */
  compileError?: { code: string; message: string };
}

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
