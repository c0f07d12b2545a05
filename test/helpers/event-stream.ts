/** One Server-Sent Event as a client received it, with the client's clock when it arrived. */
export interface ReceivedEvent {
  event: string;
  data: any;
  at: number;
}

export interface EventStreamReply {
  status: number;
  headers: Headers;
  /** The events, read as they arrive (ends with the stream). */
  events: AsyncGenerator<ReceivedEvent>;
  /** The body when the reply is not an event stream (a JSON error). */
  json(): Promise<any>;
}

/** POSTs JSON with `Accept: text/event-stream` and reads the reply's events one by one as they arrive. */
export async function postEventStream(url: string, body: unknown, options: { headers?: Record<string, string>; signal?: AbortSignal } = {}): Promise<EventStreamReply> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...options.headers },
    body: JSON.stringify(body),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  async function* events(): AsyncGenerator<ReceivedEvent> {
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      const at = performance.now();
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
        const data = block.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
        yield { event, data: JSON.parse(data), at };
      }
    }
  }
  return { status: res.status, headers: res.headers, events: events(), json: async () => JSON.parse(await res.text()) };
}

/** All the events of a stream. */
export async function allEvents(reply: EventStreamReply): Promise<ReceivedEvent[]> {
  const out: ReceivedEvent[] = [];
  for await (const event of reply.events) out.push(event);
  return out;
}
