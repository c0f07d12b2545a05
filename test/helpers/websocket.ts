import { WebSocket } from 'ws';

/** A real WebSocket client (the `ws` package) that records what the server sends. */
export interface SocketClient {
  ws: WebSocket;
  /** Every JSON message received so far, in order. */
  messages: any[];
  /** Resolves with the close code and reason (1006 when the connection just dropped). */
  closed: Promise<{ code: number; reason: string }>;
  /** Resolves with the first received message that `match` accepts (already received ones count). */
  next(match: (message: any) => boolean, timeoutMs?: number): Promise<any>;
  send(message: unknown): void;
}

/** Opens `path` on the server at `base` (http://…); rejects with the HTTP status when the upgrade is refused. */
export function openSocket(base: string, path: string, headers: Record<string, string> = {}): Promise<SocketClient> {
  const ws = new WebSocket(`${base.replace(/^http/, 'ws')}${path}`, { headers });
  const messages: any[] = [];
  const waiters: { match: (m: any) => boolean; resolve: (m: any) => void }[] = [];
  ws.on('message', (raw: Buffer) => {
    const message = JSON.parse(raw.toString('utf8'));
    messages.push(message);
    for (const waiter of [...waiters]) {
      if (waiter.match(message)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(message);
      }
    }
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') })));
  return new Promise((resolve, reject) => {
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      res.on('end', () => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode, body })));
    });
    ws.once('error', reject);
    ws.once('open', () =>
      resolve({
        ws,
        messages,
        closed,
        send: (message) => ws.send(typeof message === 'string' ? message : JSON.stringify(message)),
        next: (match, timeoutMs = 30_000) => {
          const seen = messages.find(match);
          if (seen) return Promise.resolve(seen);
          return new Promise((res, rej) => {
            const timer = setTimeout(() => rej(new Error(`no matching message in ${timeoutMs} ms; got ${JSON.stringify(messages)}`)), timeoutMs);
            waiters.push({ match, resolve: (m) => (clearTimeout(timer), res(m)) });
          });
        },
      }),
    );
  });
}
