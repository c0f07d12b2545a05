import { Type, type Static } from 'typebox';
import { BACKEND_NAMES } from '../../sandbox/backend-names.js';
import { FileSchema, LimitFields, strict } from './common.js';

const EnvSchema = Type.Record(Type.String(), Type.String(), { description: 'environment variables' });

export const SessionIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64, description: 'the session id' }) }, strict);

export const SessionCreateBodySchema = Type.Object(
  {
    language: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'language id or alias: the session\'s image, and what `code` runs as (default `python-datascience`, the interpreter sessions\' language)' })),
    limits: Type.Optional(Type.Object(LimitFields, { ...strict, description: 'the session\'s limits (memory and pids hold for the whole session; timeouts per execution)' })),
    idle_timeout_ms: Type.Optional(Type.Integer({ minimum: 1000, description: 'the session ends after this long unused (default 300000; at most the server\'s `session_max_idle_timeout_ms`)' })),
    lifetime_ms: Type.Optional(Type.Integer({ minimum: 1000, description: 'the session ends this long after creation, whatever happens (default and maximum: the server\'s `session_max_lifetime_ms`)' })),
    env: Type.Optional(EnvSchema),
    files: Type.Optional(Type.Array(FileSchema, { maxItems: 256, description: 'files written into the work directory before the session is handed out' })),
    backend: Type.Optional(
      Type.Union(BACKEND_NAMES.map((name) => Type.Literal(name)), {
        description: "isolation backend of the session, among those the server offers (`allowed_backends`); default: the server's",
      }),
    ),
  },
  { ...strict, title: 'SessionCreateRequest' },
);
export type SessionCreateBody = Static<typeof SessionCreateBodySchema>;

export const SessionSchema = Type.Object(
  {
    id: Type.String(),
    language: Type.String(),
    backend: Type.String({ description: 'the isolation backend it runs on' }),
    version: Type.Union([Type.String(), Type.Null()]),
    created_at: Type.String({ format: 'date-time' }),
    expires_at: Type.String({ format: 'date-time', description: 'when the session ends unless used before: the sooner of its idle and absolute deadlines' }),
    max_expires_at: Type.String({ format: 'date-time', description: 'its absolute end' }),
    idle_timeout_ms: Type.Integer(),
    last_used_at: Type.String({ format: 'date-time' }),
    running: Type.Integer({ description: 'executions running in it now' }),
    memory_bytes: Type.Integer({ description: 'its memory limit (for all its processes together), charged to the server\'s session memory budget' }),
  },
  { ...strict, title: 'Session' },
);

export const SessionListSchema = Type.Object({ sessions: Type.Array(SessionSchema) }, { ...strict, title: 'SessionList' });

export const SessionExecBodySchema = Type.Object(
  {
    code: Type.Optional(Type.String({ description: 'a program of the session\'s language (compiled languages compile in the session); either code or command' })),
    command: Type.Optional(Type.Array(Type.String(), { minItems: 1, maxItems: 256, description: 'an argv run in the session\'s image, no shell (e.g. ["ls", "-la"])' })),
    files: Type.Optional(Type.Array(FileSchema, { maxItems: 256, description: 'written into the work directory (replacing files of the same path) first' })),
    stdin: Type.Optional(Type.String()),
    args: Type.Optional(Type.Array(Type.String(), { maxItems: 256, description: 'arguments of the program (after the command\'s own)' })),
    env: Type.Optional(EnvSchema),
    timeout: Type.Optional(Type.Integer({ minimum: 1, description: 'run-stage wall-clock limit, ms (default: the session\'s)' })),
    output_encoding: Type.Optional(Type.Union([Type.Literal('utf8'), Type.Literal('base64')])),
  },
  { ...strict, title: 'SessionExecuteRequest' },
);
export type SessionExecBody = Static<typeof SessionExecBodySchema>;

export const FilePathQuery = Type.Object({ path: Type.String({ description: 'a path relative to the session\'s work directory' }) }, strict);
export const OptionalFilePathQuery = Type.Object({ path: Type.Optional(Type.String({ description: 'a file (its bytes) or a directory (its listing); default: the work directory' })) }, strict);

export const FileContentBodySchema = Type.Object(
  {
    content: Type.String({ description: 'the file\'s content, text or base64 per `encoding`' }),
    encoding: Type.Optional(Type.Union([Type.Literal('utf8'), Type.Literal('base64')])),
    mode: Type.Optional(Type.Integer({ minimum: 0, maximum: 0o777, description: 'permission bits (default 0644)' })),
  },
  { ...strict, title: 'SessionFileContent' },
);

export const FileWrittenSchema = Type.Object({ path: Type.String(), size: Type.Integer() }, { ...strict, title: 'SessionFileWritten' });

export const FileEntrySchema = Type.Object(
  {
    path: Type.String(),
    type: Type.Union([Type.Literal('file'), Type.Literal('dir'), Type.Literal('symlink'), Type.Literal('other')]),
    size: Type.Integer(),
    mode: Type.Integer({ description: 'permission bits' }),
    mtime: Type.String({ format: 'date-time' }),
  },
  { ...strict, title: 'SessionFileEntry' },
);

export const FileListSchema = Type.Object(
  { path: Type.String(), entries: Type.Array(FileEntrySchema), truncated: Type.Boolean({ description: 'the listing was cut at the server\'s most entries' }) },
  { ...strict, title: 'SessionFileList' },
);

export const CellBodySchema = Type.Object(
  {
    code: Type.String({ description: "a cell of the session's language; variables, imports and functions persist between cells" }),
    timeout: Type.Optional(Type.Integer({ minimum: 1, description: "the cell's wall-clock limit, ms (default: the session's); past it the cell is interrupted and the session stays usable" })),
  },
  { ...strict, title: 'RunCodeRequest' },
);

const MimeBundleSchema = Type.Record(Type.String(), Type.String(), {
  description: 'MIME type → content: `text/plain`, `text/html`, `image/svg+xml` as text, `image/png` as base64, `application/json` as JSON text',
});

export const CellResultSchema = Type.Object(
  {
    stdout: Type.String(),
    stderr: Type.String(),
    stdout_truncated: Type.Boolean(),
    stderr_truncated: Type.Boolean(),
    error: Type.Union([Type.Object({ name: Type.String(), message: Type.String(), traceback: Type.String() }, strict), Type.Null()]),
    outputs: Type.Array(MimeBundleSchema, { description: 'displayed figures and values in order; the value of the last expression last' }),
    timed_out: Type.Boolean({ description: 'the cell was interrupted at its timeout; the kernel lives on' }),
    duration_ms: Type.Number(),
  },
  { ...strict, title: 'CellResult' },
);
