import { Type } from 'typebox';
import { strict } from './common.js';

export const LanguageSchema = Type.Object(
  {
    id: Type.String(),
    aliases: Type.Array(Type.String()),
    name: Type.String(),
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
