import { Type, type Static } from 'typebox';
import { FileSchema, strict } from './common.js';

/** POST /api/v1/run: the original project's documented shape. */
export const RunBodySchema = Type.Object(
  {
    language: Type.String({ minLength: 1, maxLength: 64 }),
    files: Type.Array(FileSchema, { minItems: 1, maxItems: 256 }),
    stdin: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String(), { minItems: 1 })], { description: 'an array runs the program once per element' })),
    args: Type.Optional(Type.Array(Type.String(), { maxItems: 256 })),
  },
  { ...strict, title: 'RunRequest' },
);
export type RunBody = Static<typeof RunBodySchema>;

export const RunResultSchema = Type.Object(
  {
    status: Type.Union([Type.Literal('success'), Type.Literal('failed')]),
    stdout: Type.String(),
    stderr: Type.Union([Type.String(), Type.Null()]),
    exception: Type.Union([Type.String(), Type.Null()], { description: 'E001 operation timed out, or the reason the program failed' }),
    executionTime: Type.Integer({ description: 'ms' }),
    stdin: Type.Optional(Type.String({ description: 'echoed for array stdin' })),
  },
  { ...strict, title: 'RunResult' },
);
export type RunResult = Static<typeof RunResultSchema>;

export const RunErrorSchema = Type.Object(
  { status: Type.Literal('failed'), code: Type.String(), message: Type.String(), trace_id: Type.String() },
  { ...strict, title: 'RunError' },
);
