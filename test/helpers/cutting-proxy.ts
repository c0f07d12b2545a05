import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy on loopback in front of a server that can cut connections mid-response: the first
 * `cuts` connections are destroyed once `afterBytes` bytes went back to the client. Records the
 * request heads it forwarded (to see `Range:` headers of resumed downloads).
 */
export class CuttingProxy {
  readonly port: number;
  readonly requests: string[] = [];
  cuts: number;
  afterBytes: number;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();

  private constructor(server: Server, port: number, cuts: number, afterBytes: number) {
    this.#server = server;
    this.port = port;
    this.cuts = cuts;
    this.afterBytes = afterBytes;
  }

  static async start(targetPort: number, options: { cuts: number; afterBytes: number }): Promise<CuttingProxy> {
    let proxy: CuttingProxy | undefined;
    const server = createServer((client) => {
      const self = proxy!;
      const upstream = connect(targetPort, '127.0.0.1');
      self.#sockets.add(client).add(upstream);
      const cut = self.cuts > 0;
      if (cut) self.cuts--;
      let sent = 0;
      client.on('data', (chunk: Buffer) => {
        const text = chunk.toString('latin1');
        if (/^[A-Z]+ \S+ HTTP\/1\.1\r\n/.test(text)) self.requests.push(text.slice(0, text.indexOf('\r\n\r\n')));
        upstream.write(chunk);
      });
      upstream.on('data', (chunk: Buffer) => {
        if (cut && sent + chunk.length >= self.afterBytes) {
          client.write(chunk.subarray(0, Math.max(0, self.afterBytes - sent)));
          client.destroy();
          upstream.destroy();
          return;
        }
        sent += chunk.length;
        client.write(chunk);
      });
      const close = (): void => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', close).on('close', close);
      upstream.on('error', close).on('close', close);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy = new CuttingProxy(server, (server.address() as { port: number }).port, options.cuts, options.afterBytes);
    return proxy;
  }

  async stop(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
