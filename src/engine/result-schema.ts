import { Type } from 'typebox';

// The shape of an execution's result, written once: result.ts derives the engine's types from
// these schemas (`Static<>`), and the HTTP API validates and documents its responses with them.
// The schemas sit in the engine, not in src/api, because the engine builds the result and must
// not import from an edge. Every object rejects unknown fields.
const closed = { additionalProperties: false } as const;

const NullableInt = Type.Union([Type.Integer(), Type.Null()]);
const NullableString = Type.Union([Type.String(), Type.Null()]);

/** What a stage's program did: shared by each stage and the top level of the result. */
export const StageOutcomeFields = {
  stdout: Type.String(),
  stderr: Type.String(),
  exit_code: NullableInt,
  /** Signal name (e.g. `SIGKILL`) when the program was killed by a signal. */
  signal: NullableString,
  timed_out: Type.Boolean(),
  oom_killed: Type.Boolean(),
  truncated: Type.Object({ stdout: Type.Boolean(), stderr: Type.Boolean() }, closed),
};

/** One stage (compile or run) as callers see it. */
export const StageResultSchema = Type.Object(
  {
    ...StageOutcomeFields,
    wall_time_ms: Type.Number(),
    cpu_time_ms: Type.Number(),
    /** Peak resident memory of the stage's largest process. */
    memory_peak_bytes: Type.Integer(),
  },
  { ...closed, title: 'StageResult' },
);

/** A file the program left under outputs/ (engine/output-files.ts). */
export const OutputFileSchema = Type.Object(
  {
    /** Relative to the working directory, e.g. `outputs/plot.svg`. */
    path: Type.String(),
    /** The file's size on disk (its content may be cut: `truncated`). */
    size: Type.Integer(),
    /** Guessed from the name's extension (`application/octet-stream` when unknown). */
    mime: Type.String(),
    content_b64: Type.String(),
    /** The content was cut at the server's cap (or left out: empty). */
    truncated: Type.Boolean(),
  },
  { ...closed, title: 'OutputFile' },
);

/**
 * The result of one execution. The top-level fields describe the last stage that ran: the run
 * stage, or the compile stage when compilation failed (then `compile` holds the same data).
 * `status` is `failed` only for infrastructure errors, which carry `error`.
 */
export const ExecutionResultSchema = Type.Object(
  {
    trace_id: Type.String(),
    status: Type.Union([Type.Literal('success'), Type.Literal('failed')]),
    language: Type.String(),
    version: NullableString,
    ...StageOutcomeFields,
    load_time: Type.String({ description: 'e.g. "12ms" (the original project\'s format)' }),
    exec_time: Type.String(),
    timings: Type.Object({ load_ms: Type.Number(), compile_ms: Type.Number(), exec_ms: Type.Number(), total_ms: Type.Number() }, closed),
    cpu_time_ms: Type.Number(),
    memory_peak_bytes: Type.Integer(),
    /** Files the program wrote under `outputs/`, sorted by path, within the server's caps. */
    outputs: Type.Array(OutputFileSchema),
    /** A file was cut or left out at the caps. */
    outputs_truncated: Type.Boolean(),
    /** Present for compiled languages. */
    compile: Type.Optional(StageResultSchema),
    /** Present when status is `failed`. */
    error: Type.Optional(Type.Object({ code: Type.String(), message: Type.String() }, closed)),
  },
  { ...closed, title: 'ExecutionResult' },
);
