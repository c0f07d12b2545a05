import { Type } from 'typebox';
import { strict } from './common.js';

/** POST /api/v1/sessions/{id}/run_code: one cell of the session's interpreter kernel (docs/kernels.md). */
export const RunCodeBodySchema = Type.Object(
  {
    code: Type.String({ description: 'the cell: variables, imports and functions persist between cells' }),
    timeout: Type.Optional(Type.Integer({ minimum: 1, description: 'the cell is interrupted after this long, ms; the kernel lives on' })),
  },
  { ...strict, title: 'RunCodeRequest' },
);

/** One rich output: MIME type → content (`image/png` base64, `application/json` JSON text). */
export const MimeBundleSchema = Type.Record(Type.String(), Type.String(), { title: 'MimeBundle' });

export const CellErrorSchema = Type.Object({ name: Type.String(), message: Type.String(), traceback: Type.String() }, { ...strict, title: 'CellError' });

/** What a cell did: the same fields as the engine's CellResult (test/unit/client-types.test.ts keeps them in step). */
export const CellResultSchema = Type.Object(
  {
    stdout: Type.String(),
    stderr: Type.String(),
    stdout_truncated: Type.Boolean({ description: 'stdout passed the session\'s output limit during this cell and was cut there' }),
    stderr_truncated: Type.Boolean(),
    error: Type.Union([CellErrorSchema, Type.Null()], { description: 'the exception the cell raised, if any' }),
    outputs: Type.Array(MimeBundleSchema, { description: 'displayed figures and values in order; the last expression\'s value last' }),
    timed_out: Type.Boolean({ description: 'the cell was interrupted at its timeout; the kernel lives on' }),
    duration_ms: Type.Number(),
  },
  { ...strict, title: 'CellResult' },
);
