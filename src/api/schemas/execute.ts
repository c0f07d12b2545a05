import { Type, type Static } from 'typebox';
import { BACKEND_NAMES } from '../../sandbox/backend-names.js';
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
    image: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 300,
        description: 'pin the image: a digest `sha256:<64 hex>` or `name:tag` of an image of this language on the server (`rootfs ls`); default: the language\'s current image',
      }),
    ),
    output_encoding: Type.Optional(Type.Union([Type.Literal('utf8'), Type.Literal('base64')])),
    // An enum of the tuple (not a union of a mapped array) so that Static<> gives the names' union, not nothing.
    backend: Type.Optional(
      Type.Enum(BACKEND_NAMES, {
        description: 'isolation backend for this execution, among those the server offers (`allowed_backends`); default: the server\'s',
      }),
    ),
    ...LimitFields,
  },
  { ...strict, title: 'ExecuteRequest' },
);
export type ExecuteBody = Static<typeof ExecuteBodySchema>;
