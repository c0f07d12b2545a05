/**
 * The HTTP side of a privilege-separated server (`infra.operator api` started as root): this
 * process parses and answers every request, running as an unprivileged uid; the execution service
 * (its one queue, the engines) runs in the parent, which sent us the configuration. See
 * separated-server.ts.
 */
import { dataPaths } from '../config/paths.js';
import { ImageStore } from '../images/store.js';
import { buildApp } from './app.js';
import type { ApiConfig } from './config.js';
import { RemoteService } from './engine-ipc.js';

export type SupervisorMessage = { type: 'start'; config: ApiConfig; backendNames: string[] } | { type: 'shutdown' };
export type WorkerStatus = { type: 'listening'; url: string } | { type: 'failed'; message: string };

// The parent decides when to stop (it drains us first); a signal to the whole group is its to handle.
process.on('SIGTERM', () => undefined);
process.on('SIGINT', () => undefined);
// The parent gone (crashed or killed): nothing here may outlive it.
process.once('disconnect', () => process.exit(1));

process.once('message', (raw: unknown) => {
  const message = raw as SupervisorMessage;
  if (message?.type !== 'start') process.exit(2);
  void serve(message as Extract<SupervisorMessage, { type: 'start' }>);
});

async function serve({ config, backendNames }: { config: ApiConfig; backendNames: string[] }): Promise<void> {
  const report = (status: WorkerStatus): void => void process.send?.(status);
  try {
    const service = new RemoteService(backendNames, new ImageStore(dataPaths().imagesDir));
    const app = await buildApp(service, config);
    const url = await app.listen({ port: config.port, host: config.host });
    report({ type: 'listening', url });
    process.on('message', (next: unknown) => {
      if ((next as SupervisorMessage)?.type !== 'shutdown') return;
      service.stopAccepting();
      const cancel = setTimeout(() => service.cancelAll(), config.shutdownGraceMs);
      void app.close().finally(() => {
        clearTimeout(cancel);
        process.exit(0);
      });
    });
  } catch (err) {
    report({ type: 'failed', message: (err as Error).message });
    process.exit(1);
  }
}
