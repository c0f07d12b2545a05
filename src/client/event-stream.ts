/** One Server-Sent Event as sent: its name (`message` when unnamed) and its data lines joined. */
export interface ServerSentEvent {
  event: string;
  data: string;
}

/**
 * Reads a `text/event-stream` body event by event as it arrives (the WHATWG format: `event:` and
 * `data:` fields, a blank line ends an event, `:` lines are comments, any line ending). Uses the
 * stream's reader rather than async iteration, which not every browser gives a ReadableStream.
 */
export async function* readEventStream(body: ReadableStream<Uint8Array>): AsyncGenerator<ServerSentEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let event = '';
  let data: string[] = [];
  try {
    for (;;) {
      const { done, value } = await reader.read();
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      let end: RegExpExecArray | null;
      // A lone \r at the end of the buffer may be the first half of \r\n: wait for more.
      while ((end = /\r\n|\n|\r(?!$)/.exec(buffer)) || (done && buffer.endsWith('\r') && (end = /\r$/.exec(buffer)))) {
        const line = buffer.slice(0, end.index);
        buffer = buffer.slice(end.index + end[0].length);
        if (line === '') {
          if (data.length > 0) yield { event: event || 'message', data: data.join('\n') };
          event = '';
          data = [];
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + (line[colon + 1] === ' ' ? 2 : 1));
        if (field === 'event') event = value;
        else if (field === 'data') data.push(value);
      }
      if (done) return;
    }
  } finally {
    // Stopping early (a `break` in the caller's loop) cancels the request's body.
    await reader.cancel().catch(() => undefined);
  }
}
