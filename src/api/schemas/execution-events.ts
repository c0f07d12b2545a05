import { Type } from 'typebox';
import { strict } from './common.js';

/**
 * The payloads of the Server-Sent Events of a streamed execution (`Accept: text/event-stream`,
 * docs/api.md): `stage` as each stage starts, `stdout` / `stderr` as the program writes, `error` if
 * the service fails mid-stream; the last event, `result`, carries the usual result object.
 */
export const StageEventSchema = Type.Object({ stage: Type.String({ description: 'the stage starting: `compile` or `run`' }) }, { ...strict, title: 'StageEvent' });

export const OutputEventSchema = Type.Object(
  {
    seq: Type.Integer({ minimum: 0, description: 'counts the execution\'s output events from 0 over both streams' }),
    data: Type.String({ description: 'the chunk, text cut between whole UTF-8 characters (base64 for `output_encoding: base64`)' }),
  },
  { ...strict, title: 'OutputEvent' },
);

export const ErrorEventSchema = Type.Object(
  { error: Type.Object({ code: Type.String(), message: Type.String() }, strict) },
  { ...strict, title: 'ErrorEvent' },
);
