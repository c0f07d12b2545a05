import type { ExecutionEvent, ExecutionResult } from './types.js';

/** The named events of an execution's stream as ExecutionEvent objects; events the client does not know are skipped. */
export async function* executionEvents(events: AsyncGenerator<{ event: string; data: unknown }>): AsyncGenerator<ExecutionEvent> {
  for await (const { event, data } of events) {
    const payload = data as Record<string, unknown>;
    if (event === 'stage') yield { type: 'stage', stage: payload.stage as string };
    else if (event === 'stdout' || event === 'stderr') yield { type: event, seq: payload.seq as number, data: payload.data as string };
    else if (event === 'result') yield { type: 'result', result: data as ExecutionResult };
  }
}
