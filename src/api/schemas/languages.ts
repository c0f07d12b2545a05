import { Type } from 'typebox';
import { strict } from './common.js';

export const LanguageSchema = Type.Object(
  {
    id: Type.String(),
    aliases: Type.Array(Type.String()),
    name: Type.String(),
    family: Type.Union([Type.Literal('interpreted'), Type.Literal('compiled'), Type.Literal('jvm'), Type.Literal('beam'), Type.Literal('database')], {
      description: 'how it runs: interpreted, compiled ahead of time, on the JVM, on the BEAM, or as a database',
    }),
    version: Type.Union([Type.String(), Type.Null()]),
    installed: Type.Boolean(),
    image_bytes: Type.Integer({ description: 'apparent size of the image on this host' }),
    limits: Type.Object(
      {
        timeout: Type.Integer({ description: 'default run timeout, ms' }),
        compile_timeout: Type.Integer(),
        memory: Type.Integer({ description: 'default memory limit, MiB' }),
        pids: Type.Integer(),
        output_limit: Type.Integer({ description: 'bytes per stream' }),
      },
      strict,
    ),
  },
  { ...strict, title: 'Language' },
);
