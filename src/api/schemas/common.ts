import { Type, type Static } from 'typebox';

/** Schemas shared by several routes. Every object schema rejects unknown fields. */
export const strict = { additionalProperties: false } as const;

export const FileSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 255, description: 'relative path below the work dir; no `..`, no absolute paths' }),
    content: Type.String({ description: 'file content, as text or base64 per `encoding`' }),
    encoding: Type.Optional(Type.Union([Type.Literal('utf8'), Type.Literal('base64')], { default: undefined })),
  },
  strict,
);

export const ErrorBodySchema = Type.Object(
  {
    error: Type.Object(
      {
        code: Type.String({ description: 'stable error code (docs/errors.md)' }),
        message: Type.String(),
        field: Type.Optional(Type.String({ description: 'the request field at fault' })),
        legacy_code: Type.Optional(Type.String({ description: "the original project's code (E001…E006) where one applies" })),
      },
      strict,
    ),
    trace_id: Type.String(),
  },
  { ...strict, title: 'ErrorBody' },
);
export type ErrorBody = Static<typeof ErrorBodySchema>;

export const LimitFields = {
  timeout: Type.Optional(Type.Integer({ minimum: 1, description: 'run-stage wall-clock limit, ms' })),
  compile_timeout: Type.Optional(Type.Integer({ minimum: 1, description: 'compile-stage wall-clock limit, ms' })),
  memory: Type.Optional(Type.Integer({ minimum: 1, description: 'memory limit, MiB' })),
  pids: Type.Optional(Type.Integer({ minimum: 1, description: 'most processes and threads' })),
  output_limit: Type.Optional(Type.Integer({ minimum: 0, description: 'cap per output stream, bytes' })),
};
