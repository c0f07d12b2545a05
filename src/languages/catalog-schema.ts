import { Type } from 'typebox';

// The catalog's shapes, written once: types.ts derives the TypeScript types from these schemas
// (`Static<>`), the built-in catalog is type-checked against them, and a custom catalog file
// (src/images/recipe-file.ts) is validated with them, so a custom entry is exactly as expressive
// as a built-in one. Rules a schema cannot state (placeholders, parents, names used twice) are in
// catalog-rules.ts. Every object rejects unknown fields.
const closed = { additionalProperties: false } as const;
const List = <T extends Parameters<typeof Type.Array>[0]>(item: T, options: { minItems?: number; maxItems?: number } = {}) => Type.Immutable(Type.Array(item, options));
const Regex = Type.String({ minLength: 1, description: 'a regular expression (JavaScript syntax, multi-line mode)' });

/** An image or language id: also a directory name under `<home>/images`, so no `/`, `.` or upper case. */
export const ID_PATTERN = '^[a-z0-9][a-z0-9-]{0,62}$';
/** A Debian package (`name` or `name/suite`, e.g. `golang-go/bookworm-backports`); never an apt option. */
export const DEBIAN_PACKAGE_PATTERN = '^[a-z0-9][a-z0-9+.-]+(/[a-z0-9.-]+)?$';
/** Exact `name@version`: images are reproducible only with pinned versions. */
export const NPM_SPEC_PATTERN = '^(@[a-z0-9][a-z0-9._-]*/)?[a-z0-9][a-z0-9._-]*@\\d+\\.\\d+\\.\\d+(-[0-9A-Za-z.-]+)?$';
/** An absolute path inside an image: plain components only (catalog-rules.ts refuses `.` and `..`). */
export const IMAGE_PATH_PATTERN = '^(/[A-Za-z0-9._@+=:,-]+)+$';

/**
 * An npm package unpacked into the image's shared tree `/opt/runner-codes/npm/node_modules/<name>`
 * (one node_modules tree, so packages that depend on each other resolve normally).
 */
export const NpmPackageSchema = Type.Object(
  {
    spec: Type.String({ pattern: NPM_SPEC_PATTERN, description: 'exact name@version' }),
    /** Commands linked into /usr/local/bin: command name → path inside the package. */
    bin: Type.Optional(Type.Immutable(Type.Record(Type.String({ pattern: '^[a-z0-9][a-z0-9._-]*$' }), Type.String({ pattern: '^[A-Za-z0-9_][A-Za-z0-9._/-]*$' })))),
  },
  { ...closed, title: 'NpmPackage' },
);

/** A file a custom image adds (written inside the image's root, replacing what its parent had there). */
export const ImageFileSchema = Type.Object(
  {
    path: Type.String({ pattern: IMAGE_PATH_PATTERN, maxLength: 1024, description: 'absolute path in the image' }),
    content: Type.String({ maxLength: 1024 * 1024, description: 'the file as UTF-8 text' }),
    /** Mode 0755 instead of 0644. */
    executable: Type.Optional(Type.Boolean()),
  },
  { ...closed, title: 'ImageFile' },
);

/**
 * An image recipe: what one layer adds on top of its parent image, in this order: Debian packages,
 * npm packages, `files` (custom images) or the files under `src/images/layers/<id>/rootfs/`, and
 * finally `src/images/layers/<id>/setup.sh` run inside the layer (e.g. to initialise a database).
 */
export const ImageRecipeSchema = Type.Object(
  {
    /** Image id, used as the directory name under `$RUNNER_CODES_HOME/images`. */
    id: Type.String({ pattern: ID_PATTERN }),
    /** Parent image id; only the base image has none. */
    parent: Type.Optional(Type.String({ pattern: ID_PATTERN })),
    /** Debian packages installed into this layer (`apt-get install --no-install-recommends`); `name/bookworm-backports` takes the package from backports. */
    packages: Type.Array(Type.String({ pattern: DEBIAN_PACKAGE_PATTERN })),
    /** Packages from the npm registry that ship prebuilt binaries or pure JavaScript. */
    npm: Type.Optional(List(NpmPackageSchema)),
    /** Files the layer adds (custom images; built-in layers keep theirs under src/images/layers/). */
    files: Type.Optional(List(ImageFileSchema, { maxItems: 256 })),
    description: Type.String({ minLength: 1 }),
  },
  { ...closed, title: 'ImageRecipe' },
);

/**
 * An argv template (never a shell string). Placeholders:
 *  - `{file}`    the entry file (relative to the work dir)
 *  - `{stem}`    the entry file's name without its extension (Java's main class)
 *  - `{noext}`   the entry file without its extension, directories kept (`lib/app.ts` → `lib/app`)
 *  - `{sources}` every submitted file whose name ends with one of the language's `extensions`
 *                (expands to several arguments)
 *  - `{args}`    the caller's arguments (expands to zero or more arguments; run stage only)
 */
export const ArgvTemplateSchema = List(Type.String(), { minItems: 1 });

const MiB = 1024 * 1024;
/**
 * The most a language's own limits may be: the engine's default server maxima (engine/limits.ts,
 * kept equal by test/unit/catalog.test.ts), so a custom definition, perhaps pulled from someone's
 * registry, cannot give its programs more than a request could ask for.
 */
export const LANGUAGE_LIMIT_CEILINGS = {
  runTimeoutMs: 60_000,
  compileTimeoutMs: 120_000,
  memoryBytes: 2048 * MiB,
  pids: 512,
  nofile: 4096,
  stackBytes: 256 * MiB,
  diskBytes: 1024 * MiB,
} as const;
const Limit = (key: keyof typeof LANGUAGE_LIMIT_CEILINGS) => Type.Optional(Type.Integer({ minimum: 1, maximum: LANGUAGE_LIMIT_CEILINGS[key] }));
export const LimitOverridesSchema = Type.Object(
  {
    runTimeoutMs: Limit('runTimeoutMs'),
    compileTimeoutMs: Limit('compileTimeoutMs'),
    memoryBytes: Limit('memoryBytes'),
    pids: Limit('pids'),
    nofile: Limit('nofile'),
    stackBytes: Limit('stackBytes'),
    /** Size of the /work and /tmp tmpfs mounts (database servers copy their data directory there). */
    diskBytes: Limit('diskBytes'),
  },
  { ...closed, title: 'LimitOverrides' },
);

export const ConformanceCaseSchema = Type.Object(
  {
    /** Source of the entry file. */
    code: Type.String({ minLength: 1 }),
    stdin: Type.String(),
    /** Exact expected stdout. */
    stdout: Type.String(),
  },
  { ...closed, title: 'ConformanceCase' },
);

/**
 * How a source file's name follows from its code. A file is renamed after the unit that group 1 of the
 * first matching regex captures (regexes in multi-line mode), keeping its directory and extension;
 * a file none matches keeps its name.
 */
export const UnitNamingSchema = Type.Object(
  {
    /** The toolchain requires every source of the language to be named after this unit (javac's public class, erlc's -module). */
    sources: Type.Optional(List(Regex)),
    /** Tried on the entry after `sources`: the unit that runs, which the argv templates name by `{stem}`. */
    entry: Type.Optional(List(Regex)),
    /** `gnat`: GNAT's file naming, lower case with a child unit's dots as `-` (`Foo.Bar` → `foo-bar`). */
    case: Type.Optional(Type.Literal('gnat')),
    /** The entry's stem names its unit when no regex matches, so it must be an identifier (`my-prog.d` → `my_prog.d`). */
    identifierStem: Type.Optional(Type.Boolean()),
  },
  { ...closed, title: 'UnitNaming' },
);

/** A form of program chosen by the entry's source: it matches `matches` and has no match for `lacks` (either may be absent, not both). */
export const LanguageFormSchema = Type.Object(
  {
    /** What people call this form, for documentation and messages. */
    name: Type.String({ minLength: 1 }),
    /** Regex (multi-line mode) the entry's source matches in this form. */
    matches: Type.Optional(Regex),
    /** Regex (multi-line mode) the entry's source never matches in this form. */
    lacks: Type.Optional(Regex),
    /** Replaces the language's compile stage (absent: no compile stage). */
    compile: Type.Optional(ArgvTemplateSchema),
    run: Type.Optional(ArgvTemplateSchema),
    unitNaming: Type.Optional(UnitNamingSchema),
    /** The form cannot run here: the request is refused with this message (which says why and what works). */
    unsupported: Type.Optional(Type.String({ minLength: 1 })),
  },
  { ...closed, title: 'LanguageForm' },
);

/** A relative file name a program may have: no absolute path, no `..` (catalog-rules.ts checks the components). */
const RelativeName = Type.String({ pattern: '^[A-Za-z0-9_][A-Za-z0-9._/-]*$', maxLength: 255 });

/** A program under a file name its code does not imply, and what it must print (or the error it must get). */
export const NamingCaseSchema = Type.Object(
  {
    /** What the case shows, e.g. "public class Main in test.java". */
    title: Type.String({ minLength: 1 }),
    /** `content` absent: the language's conformance program. */
    files: List(Type.Object({ name: RelativeName, content: Type.Optional(Type.String()) }, closed), { minItems: 1 }),
    stdin: Type.Optional(Type.String()),
    /** Exact expected stdout. */
    stdout: Type.Optional(Type.String()),
    /** For an unsupported form: a piece of the request error's message. */
    error: Type.Optional(Type.String()),
  },
  { ...closed, title: 'NamingCase' },
);

/** How a language runs; the test suite checks errors, stdin, unicode and exit codes per family. */
export const LanguageFamilySchema = Type.Enum(['interpreted', 'compiled', 'jvm', 'beam', 'database']);

/** A syscall ABI besides x86_64 (always admitted) that a language's programs may use. */
export const ExtraSyscallAbiSchema = Type.Enum(['i386']);

export const LanguageSpecSchema = Type.Object(
  {
    id: Type.String({ pattern: ID_PATTERN }),
    name: Type.String({ minLength: 1 }),
    family: LanguageFamilySchema,
    aliases: List(Type.String({ pattern: '^[a-z0-9][a-z0-9+#.-]*$' })),
    /** Image id (ImageRecipe.id) this language runs in. */
    image: Type.String({ pattern: ID_PATTERN }),
    /** Default entry file name when a caller sends bare `code`. */
    fileName: RelativeName,
    /**
     * Where the toolchain ties a file's name to the unit its source defines (javac's public class,
     * erlc's module, gnatmake's library unit, haxe's module): the engine renames such files after their
     * unit, whatever name the caller gave (see unit-names.ts).
     */
    unitNaming: Type.Optional(UnitNamingSchema),
    /**
     * Other forms of program the language accepts, told apart by the entry's source; the first that
     * matches replaces `compile`, `run` and `unitNaming` (Erlang's escript form, Scala 3's `@main`, NASM's 32-bit code).
     */
    forms: Type.Optional(List(LanguageFormSchema)),
    /** File name extensions of this language's sources, for `{sources}`. */
    extensions: List(Type.String({ pattern: '^\\.[A-Za-z0-9]+$' }), { minItems: 1 }),
    compile: Type.Optional(ArgvTemplateSchema),
    run: ArgvTemplateSchema,
    /** Extra environment for both stages (added to PATH, HOME, LANG). */
    env: Type.Optional(Type.Immutable(Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }), Type.String()))),
    limits: Type.Optional(LimitOverridesSchema),
    /**
     * Syscall ABIs besides x86_64 that the sandbox's seccomp filter admits (nasm: 32-bit programs
     * calling `int 0x80`). Sandboxes start per image, so the filter follows the image: a language
     * that needs one has an image of its own (catalog-rules.ts checks it).
     */
    syscallAbis: Type.Optional(List(ExtraSyscallAbiSchema)),
    /** argv printing the toolchain's version; the first `x.y[.z]` in its output is the version. */
    versionProbe: ArgvTemplateSchema,
    /** Program that reads a line and prints `Hello, <line>!` and 5050. */
    conformance: ConformanceCaseSchema,
    /** Programs as people submit them, under file names that differ from the names the code implies. */
    namingCases: Type.Optional(List(NamingCaseSchema)),
    /** A program that must fail to compile (compiled languages only), and a piece of the diagnostic. */
    compileError: Type.Optional(Type.Object({ code: Type.String({ minLength: 1 }), message: Type.String({ minLength: 1 }) }, closed)),
  },
  { ...closed, title: 'LanguageSpec' },
);

/**
 * A catalog extension: what a custom catalog file declares and what `rootfs build --file` keeps in
 * `<home>/catalog.d/<name>.json` once its images are built.
 */
export const CatalogExtensionSchema = Type.Object(
  {
    /** Names the extension: its file under catalog.d/, and what `rootfs rm` removes as a whole. */
    name: Type.String({ pattern: ID_PATTERN }),
    images: List(ImageRecipeSchema, { minItems: 1 }),
    languages: List(LanguageSpecSchema),
  },
  { ...closed, title: 'CatalogExtension' },
);
