import { Command } from 'commander';
import { API_OPTIONS, defaultApiConfig, type ApiConfig, type OptionSpec } from '../../api/config.js';
import type { WorkerHostOptions } from '../../queue/worker-host.js';
import { addOptionRows, configOfFlags } from '../option-rows.js';
import { ErrorCodes, RunnerError } from '../../errors.js';
import { exitWith, type CliContext } from '../context.js';

/** Everything `infra.operator worker` can be configured with: the API's engine rows and its own. */
export interface WorkerConfig extends ApiConfig, WorkerHostOptions {}

/** The API's rows a worker takes too: the queue, the engine (backends, pools, maxima), concurrency. */
const SHARED: readonly (keyof ApiConfig)[] = [
  'queue', 'queuePrefix', 'concurrency', 'backend', 'allowedBackends', 'firecrackerJailer',
  'poolSize', 'poolSizes', 'poolBackendSizes', 'poolWarm', 'poolMaxIdle', 'poolMaxIdleMemoryMb', 'poolIdleTtlMs', 'poolShrinkAfterMs',
  'maxStdinBytes', 'maxCodeBytes', 'maxTimeoutMs', 'maxMemoryMb', 'maxPids', 'maxOutputBytes', 'maxOutputFiles', 'maxOutputFilesBytes',
];

/** The worker's options table (docs/queue.md lists it): flag > environment > config file > default. */
export const WORKER_OPTIONS: readonly OptionSpec<keyof WorkerConfig>[] = [
  ...API_OPTIONS.filter((spec) => SHARED.includes(spec.key)).map((spec) => (spec.key === 'concurrency' ? { ...spec, description: 'jobs run at once (BullMQ concurrency and the sandbox slots; default: the number of CPU cores)' } : spec)),
  { key: 'languages', flag: '--languages <lang...>', env: 'RUNNER_CODES_WORKER_LANGUAGES', file: 'languages', kind: 'list', description: 'take jobs of these languages only (default: every language whose image is built here)' },
  { key: 'drainTimeoutMs', flag: '--drain-timeout <ms>', env: 'RUNNER_CODES_DRAIN_TIMEOUT', file: 'drain_timeout_ms', kind: 'int', min: 0, description: 'on SIGTERM/SIGINT, how long running jobs may finish; the rest go back to the queue for another worker' },
  { key: 'lockDurationMs', flag: '--lock-duration <ms>', env: 'RUNNER_CODES_LOCK_DURATION', file: 'lock_duration_ms', kind: 'int', min: 1000, description: "BullMQ job lock: a worker that stops renewing it (killed) this long loses the job, which is retried once on another worker" },
  { key: 'stalledIntervalMs', flag: '--stalled-interval <ms>', env: 'RUNNER_CODES_STALLED_INTERVAL', file: 'stalled_interval_ms', kind: 'int', min: 500, description: 'how often the worker looks for stalled jobs (of workers that were lost)' },
  { key: 'metricsPort', flag: '--metrics-port <n>', env: 'RUNNER_CODES_METRICS_PORT', file: 'metrics_port', kind: 'int', min: 0, max: 65535, description: 'serve Prometheus GET /metrics on this port (0 = off)' },
  { key: 'metricsHost', flag: '--metrics-host <addr>', env: 'RUNNER_CODES_METRICS_HOST', file: 'metrics_host', kind: 'string', description: 'address the metrics endpoint binds' },
  { key: 'workerId', flag: '--worker-id <id>', env: 'RUNNER_CODES_WORKER_ID', file: 'worker_id', kind: 'string', description: 'this worker\'s id in Redis and in its metrics (default: HOSTNAME-PID-RANDOM)' },
];

export function defaultWorkerConfig(): WorkerConfig {
  return { ...defaultApiConfig(), languages: [], drainTimeoutMs: 30_000, lockDurationMs: 10_000, stalledIntervalMs: 5_000, metricsPort: 0, metricsHost: '127.0.0.1', workerId: '' };
}

export function workerCommand(ctx: CliContext): Command {
  const command = new Command('worker').description('run queued executions on this host: take jobs from BullMQ on Redis (the queue of `api --queue`) and run them in sandboxes here (docs/queue.md)');
  addOptionRows(command, WORKER_OPTIONS, defaultWorkerConfig(), ['concurrency', 'workerId'], 'Drains gracefully on SIGTERM/SIGINT (exit 0).');
  return command.action(
    exitWith(ctx, async (flags: Record<string, unknown>) => {
      const config = configOfFlags(WORKER_OPTIONS, defaultWorkerConfig(), flags);
      if (!config.queue) throw new RunnerError(ErrorCodes.CONFIG, 'worker: --queue is required (redis://[user:pass@]host:port[/db], or RUNNER_CODES_QUEUE)');
      // Loaded on use, like `api`: the engine and BullMQ would slow every other command's start.
      const { startWorkerHost } = await import('../../queue/worker-host.js');
      const { engineOptionsFor } = await import('../../api/engine-options.js');
      const host = await startWorkerHost({ ...config, engine: engineOptionsFor(config) });
      process.stderr.write(`worker ${host.worker.id}: queue ${host.worker.queue} (${host.worker.profile.capabilities.length} backend:language pairs), concurrency ${config.concurrency}${host.metricsUrl ? `, metrics ${host.metricsUrl}` : ''}\n`);
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.stderr.write('draining\n');
          void host.close().then(resolve);
        };
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
      });
      return 0;
    }),
  );
}
