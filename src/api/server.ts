import { buildApp, type AppOptions } from './app.js';
import { closeEngines, openServerEngines } from './engine-options.js';
import { localEngineService } from './engine-service.js';
import { exposureWarning, type ApiConfig } from './config.js';
import type { Executor } from './executor.js';
import type { Api } from './types.js';

export interface RunningServer {
  app: Api;
  executor: Executor;
  /** The address actually bound (port 0 picks a free one). */
  url: string;
  /**
   * Graceful shutdown: stop accepting, let in-flight executions finish for up to the grace period,
   * cancel the rest (their sandboxes are destroyed), close. Idempotent.
   */
  close(): Promise<void>;
}

/** Opens the engine on this host and serves the API until close(). */
export async function startServer(config: ApiConfig, options: AppOptions = {}): Promise<RunningServer> {
  const engines = await openServerEngines(config);
  const { app, executor } = await buildApp(localEngineService(engines), config, options);
  const warning = exposureWarning(config);
  if (warning) {
    app.log.warn(warning);
    process.stderr.write(`\n${'!'.repeat(78)}\n${warning}\n${'!'.repeat(78)}\n\n`);
  }
  const url = await app.listen({ port: config.port, host: config.host });
  let closing: Promise<void> | undefined;
  return {
    app,
    executor,
    url,
    close() {
      closing ??= (async () => {
        executor.stopAccepting();
        const cancel = setTimeout(() => executor.cancelAll(), config.shutdownGraceMs);
        try {
          await app.close();
        } finally {
          clearTimeout(cancel);
          // Every pooled sandbox, and every used one still being torn down, is gone after this.
          await closeEngines(engines);
        }
      })();
      return closing;
    },
  };
}
