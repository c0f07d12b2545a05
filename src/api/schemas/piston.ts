import { Type, type Static } from 'typebox';

/** Piston v2's request and response shapes, field for field (its clients send no unknown fields). */
export const PistonExecuteBodySchema = Type.Object(
  {
    language: Type.String({ minLength: 1 }),
    version: Type.Optional(Type.String({ description: 'semver, a prefix of it, or "*"' })),
    files: Type.Array(
      Type.Object(
        {
          name: Type.Optional(Type.String()),
          content: Type.String(),
          encoding: Type.Optional(Type.Union([Type.Literal('utf8'), Type.Literal('base64'), Type.Literal('hex')])),
        },
        { additionalProperties: false },
      ),
      { minItems: 1 },
    ),
    stdin: Type.Optional(Type.String()),
    args: Type.Optional(Type.Array(Type.String())),
    compile_timeout: Type.Optional(Type.Integer()),
    run_timeout: Type.Optional(Type.Integer()),
    compile_cpu_time: Type.Optional(Type.Integer()),
    run_cpu_time: Type.Optional(Type.Integer()),
    compile_memory_limit: Type.Optional(Type.Integer()),
    run_memory_limit: Type.Optional(Type.Integer()),
  },
  { additionalProperties: false, title: 'PistonExecuteRequest' },
);
export type PistonExecuteBody = Static<typeof PistonExecuteBodySchema>;

const NullableString = Type.Union([Type.String(), Type.Null()]);
const NullableNumber = Type.Union([Type.Number(), Type.Null()]);

export const PistonStageSchema = Type.Object(
  {
    stdout: Type.String(),
    stderr: Type.String(),
    output: Type.String(),
    code: Type.Union([Type.Integer(), Type.Null()]),
    signal: NullableString,
    message: NullableString,
    status: NullableString,
    cpu_time: NullableNumber,
    wall_time: NullableNumber,
    memory: NullableNumber,
  },
  { additionalProperties: false, title: 'PistonStage' },
);
export type PistonStage = Static<typeof PistonStageSchema>;

export const PistonExecuteResultSchema = Type.Object(
  { language: Type.String(), version: Type.String(), run: PistonStageSchema, compile: Type.Optional(PistonStageSchema) },
  { additionalProperties: false, title: 'PistonExecuteResult' },
);

export const PistonRuntimeSchema = Type.Object(
  { language: Type.String(), version: Type.String(), aliases: Type.Array(Type.String()), runtime: Type.Optional(Type.String()) },
  { additionalProperties: false, title: 'PistonRuntime' },
);

export const PistonErrorSchema = Type.Object({ message: Type.String() }, { additionalProperties: false, title: 'PistonError' });
