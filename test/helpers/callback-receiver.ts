import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Delivery {
  at: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * A callback receiver: a real HTTP server on 127.0.0.1 recording every POST by its
 * X-Runner-Codes-Token, answering each with the next status of that token's `script` (then 200).
 * Closed after the file's tests.
 */
export class CallbackReceiver {
  readonly port: number;
  readonly deliveries = new Map<string, Delivery[]>();
  readonly script = new Map<string, number[]>();
  readonly all: Delivery[] = [];

  private constructor(port: number) {
    this.port = port;
  }

  static async start(): Promise<CallbackReceiver> {
    let self: CallbackReceiver | undefined;
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        const delivery = { at: Date.now(), headers: req.headers, body };
        const token = String(req.headers['x-runner-codes-token']);
        self!.all.push(delivery);
        self!.deliveries.set(token, [...(self!.deliveries.get(token) ?? []), delivery]);
        res.statusCode = self!.script.get(token)?.shift() ?? 200;
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    after(() => new Promise<void>((resolve) => server.close(() => resolve())));
    self = new CallbackReceiver((server.address() as AddressInfo).port);
    return self;
  }

  /** Waits for `count` deliveries of `token` and returns them. */
  async deliveriesOf(token: string, count: number, ms = 20_000): Promise<Delivery[]> {
    const deadline = Date.now() + ms;
    while ((this.deliveries.get(token)?.length ?? 0) < count) {
      if (Date.now() > deadline) throw new Error(`${count} deliveries for ${token} within ${ms} ms: got ${this.deliveries.get(token)?.length ?? 0}`);
      await sleep(25);
    }
    return this.deliveries.get(token)!;
  }
}
