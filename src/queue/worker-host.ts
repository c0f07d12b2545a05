import type { Server } from 'node:http';
import type { OpenEngineOptions } from '../compose/open-engine.js';
import { openService } from '../compose/open-service.js';
import type { BackendName } from '../sandbox/backend-names.js';
import { ErrorCodes, RunnerError } from '../errors.js';
import { QueueKeys } from './queue-keys.js';
import { QueueWorker, languageIds, profileOf } from './queue-worker.js';
import { connectRequestRedis } from './redis-connections.js';
import { redisOptionsOf } from './redis-url.js';
import { WorkerMetrics } from './worker-metrics.js';

/** The worker's own options (`infra.operator worker`, docs/queue.md). */
export interface WorkerHostOptions {
  languages: string[];
  drainTimeoutMs: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
  metricsPort: number;
  metricsHost: string;
  workerId: string;
}

export interface WorkerHostSettings extends WorkerHostOptions {
  queue: string;
  queuePrefix: string;
  concurrency: number;
  engine: OpenEngineOptions;
  allowedBackends: BackendName[];
}

export interface WorkerHost {
  worker: QueueWorker;
  metricsUrl: string | undefined;
  /** Drains the worker, then closes the service (every sandbox gone) and the metrics endpoint. */
  close(): Promise<void>;
}

/**
 * `infra.operator worker`: this host's execution service (its own pools, images and backends,
 * no sessions) behind a QueueWorker, and the metrics endpoint when asked for.
 */
export async function startWorkerHost(settings: WorkerHostSettings): Promise<WorkerHost> {
  const redis = redisOptionsOf(settings.queue);
  languageIds(settings.languages);
  // Fails the start naming the address when Redis does not answer.
  (await connectRequestRedis(redis)).disconnect();
  const service = await openService({ engine: settings.engine, backends: settings.allowedBackends, concurrency: settings.concurrency, maxQueued: settings.concurrency, sessions: false });
  let worker: QueueWorker;
  let metrics: WorkerMetrics | undefined;
  try {
    if (profileOf(service, settings.languages.length > 0 ? settings.languages : undefined).capabilities.length === 0) {
      throw new RunnerError(ErrorCodes.CONFIG, 'worker: no language to offer: no image is built here (or none of --languages is)', { hint: 'run `infra.operator setup` or `infra.operator rootfs build --lang LANG`' });
    }
    worker = await QueueWorker.start(service, {
      redis,
      keys: new QueueKeys(settings.queuePrefix),
      concurrency: settings.concurrency,
      ...(settings.languages.length > 0 ? { languages: settings.languages } : {}),
      lockDurationMs: settings.lockDurationMs,
      stalledIntervalMs: settings.stalledIntervalMs,
      drainTimeoutMs: settings.drainTimeoutMs,
      ...(settings.workerId ? { id: settings.workerId } : {}),
      onExecuted: (result) => metrics?.observe(result),
      log: (message) => process.stderr.write(`${message}\n`),
    });
  } catch (err) {
    await service.close();
    throw err;
  }
  let server: Server | undefined;
  if (settings.metricsPort > 0) {
    metrics = new WorkerMetrics(worker.id, service, () => worker.running);
    server = await metrics.serve(settings.metricsHost, settings.metricsPort);
  }
  let closing: Promise<void> | undefined;
  return {
    worker,
    metricsUrl: server ? `http://${settings.metricsHost}:${settings.metricsPort}/metrics` : undefined,
    close() {
      closing ??= (async () => {
        await worker.drain();
        await service.close();
        await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      })();
      return closing;
    },
  };
}
