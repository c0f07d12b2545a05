import type { ExecutionService, Service } from '../engine/service.js';
import type { QueueService } from '../queue/queue-service.js';
import { buildApp, type AppOptions } from './app.js';
import { openServerService } from './engine-options.js';
import { exposureWarning, type ApiConfig } from './config.js';
import type { Api } from './types.js';

export interface RunningServer<S extends Service & { close(): Promise<void> } = ExecutionService> {
  app: Api;
  /** The execution service on this host, or in queue mode the QueueService. */
  service: S;
  /** The address actually bound (port 0 picks a free one). */
  url: string;
  /**
   * Graceful shutdown: stop accepting, let in-flight executions finish for up to the grace period,
   * cancel the rest (their sandboxes are destroyed), close. Idempotent.
   */
  close(): Promise<void>;
}

/** Opens the execution service on this host and serves the API over it until close(). */
export async function startServer(config: ApiConfig, options: AppOptions = {}): Promise<RunningServer> {
  return serve(await openServerService(config), config, options);
}

/**
 * Queue mode (`--queue`): serves the API over a QueueService, every execution a BullMQ job run by
 * `infra.operator worker` processes (docs/queue.md). BullMQ is loaded only here.
 */
export async function startQueueServer(config: ApiConfig, options: AppOptions = {}): Promise<RunningServer<QueueService>> {
  return serve(await (await import('../queue/open-queue-service.js')).openQueueService(config), config, options);
}

async function serve<S extends Service & { close(): Promise<void> }>(service: S, config: ApiConfig, options: AppOptions): Promise<RunningServer<S>> {
  const app = await buildApp(service, config, options);
  const warning = exposureWarning(config);
  if (warning) {
    app.log.warn(warning);
    process.stderr.write(`\n${'!'.repeat(78)}\n${warning}\n${'!'.repeat(78)}\n\n`);
  }
  const url = await app.listen({ port: config.port, host: config.host });
  let closing: Promise<void> | undefined;
  return {
    app,
    service,
    url,
    close() {
      closing ??= (async () => {
        service.stopAccepting();
        const cancel = setTimeout(() => service.cancelAll(), config.shutdownGraceMs);
        try {
          await app.close();
        } finally {
          clearTimeout(cancel);
          // Every pooled sandbox, and every used one still being torn down, is gone after this.
          await service.close();
        }
      })();
      return closing;
    },
  };
}
