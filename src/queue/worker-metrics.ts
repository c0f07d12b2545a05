import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { ExecutionResult } from '../engine/result.js';
import type { ExecutionService } from '../engine/service.js';

/** A worker's metrics, every series labelled with the worker's id; declared here, in one place. */
export class WorkerMetrics {
  readonly registry = new Registry();
  readonly #executions: Counter<'language' | 'status'>;

  constructor(workerId: string, service: ExecutionService, running: () => number) {
    this.registry.setDefaultLabels({ worker: workerId });
    collectDefaultMetrics({ register: this.registry, prefix: 'runner_codes_worker_' });
    const registers = [this.registry];
    this.#executions = new Counter({ name: 'runner_codes_worker_executions_total', help: 'Jobs this worker ran, by language and result status (success, failed)', labelNames: ['language', 'status'], registers });
    new Gauge({ name: 'runner_codes_worker_running', help: 'Jobs running on this worker now', registers, collect() { this.set(running()); } });
    new Gauge({
      name: 'runner_codes_worker_pool_idle',
      help: 'Warm sandboxes idle in this worker\'s pools',
      registers,
      async collect() {
        this.set((await service.poolStats())?.idle_total ?? 0);
      },
    });
  }

  observe(result: ExecutionResult): void {
    this.#executions.inc({ language: result.language, status: result.status });
  }

  /** Serves GET /metrics on host:port until the returned server is closed. */
  async serve(host: string, port: number): Promise<Server> {
    const server = createServer((request, response) => {
      if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
        response.writeHead(404).end('not found\n');
        return;
      }
      void this.registry.metrics().then(
        (text) => response.writeHead(200, { 'content-type': this.registry.contentType }).end(text),
        () => response.writeHead(500).end('metrics failed\n'),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    return server;
  }
}
