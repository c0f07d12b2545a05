import { Type, type Static } from 'typebox';
import { FileSchema, LimitFields, strict } from './common.js';

export const ExecuteBodySchema = Type.Object(
  {
    language: Type.String({ minLength: 1, maxLength: 64, description: 'language id or alias' }),
    code: Type.Optional(Type.String({ description: 'single-file program; either code or files is required' })),
    files: Type.Optional(Type.Array(FileSchema, { minItems: 1, maxItems: 256 })),
    entry: Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: 'entry file (default: the first)' })),
    stdin: Type.Optional(Type.String()),
    args: Type.Optional(Type.Array(Type.String(), { maxItems: 256 })),
    env: Type.Optional(Type.Record(Type.String(), Type.String())),
    output_encoding: Type.Optional(Type.Union([Type.Literal('utf8'), Type.Literal('base64')])),
    backend: Type.Optional(
      Type.Union([Type.Literal('bwrap'), Type.Literal('qemu'), Type.Literal('firecracker')], {
        description: 'isolation backend for this execution, among those the server offers (`allowed_backends`); default: the server\'s',
      }),
    ),
    ...LimitFields,
  },
  { ...strict, title: 'ExecuteRequest' },
);
export type ExecuteBody = Static<typeof ExecuteBodySchema>;

const Truncated = Type.Object({ stdout: Type.Boolean(), stderr: Type.Boolean() }, strict);
const NullableInt = Type.Union([Type.Integer(), Type.Null()]);
const NullableString = Type.Union([Type.String(), Type.Null()]);

const Outcome = {
  stdout: Type.String(),
  stderr: Type.String(),
  exit_code: NullableInt,
  signal: NullableString,
  timed_out: Type.Boolean(),
  oom_killed: Type.Boolean(),
  truncated: Truncated,
};

export const StageResultSchema = Type.Object(
  { ...Outcome, wall_time_ms: Type.Number(), cpu_time_ms: Type.Number(), memory_peak_bytes: Type.Integer() },
  { ...strict, title: 'StageResult' },
);

export const ExecutionResultSchema = Type.Object(
  {
    trace_id: Type.String(),
    status: Type.Union([Type.Literal('success'), Type.Literal('failed')]),
    language: Type.String(),
    version: NullableString,
    ...Outcome,
    load_time: Type.String({ description: 'e.g. "12ms" (the original project\'s format)' }),
    exec_time: Type.String(),
    timings: Type.Object({ load_ms: Type.Number(), compile_ms: Type.Number(), exec_ms: Type.Number(), total_ms: Type.Number() }, strict),
    cpu_time_ms: Type.Number(),
    memory_peak_bytes: Type.Integer(),
    compile: Type.Optional(StageResultSchema),
    error: Type.Optional(Type.Object({ code: Type.String(), message: Type.String() }, strict)),
  },
  { ...strict, title: 'ExecutionResult' },
);
