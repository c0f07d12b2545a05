import { Type, type TSchema } from 'typebox';

/**
 * A 200 that is either the JSON result or, for `Accept: text/event-stream`, Server-Sent Events
 * ending with that result (api/sse.ts). Fastify serializes the JSON one; the stream is written by hand.
 */
export function resultOrEventStream(result: TSchema): { description: string; content: Record<string, { schema: TSchema }> } {
  return {
    description: 'The result object; or, with `Accept: text/event-stream`, the execution as Server-Sent Events',
    content: {
      'application/json': { schema: result },
      'text/event-stream': {
        schema: Type.String({
          description:
            'Events `stage` (`{"stage":"run"}`), `stdout` and `stderr` (`{"seq":0,"data":"…"}`, seq counting both streams from 0) as the program runs, then one `result` (the JSON result object); `error` (`{"error":{code,message}}`) if the service fails mid-stream.',
        }),
      },
    },
  };
}
