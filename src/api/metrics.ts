import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ExecutionResult } from '../engine/result.js';
import type { Service } from '../engine/service.js';

/** Every metric the server exports, declared in one place, fed by the service's hook points. */
export class ApiMetrics {
  readonly registry = new Registry();
  readonly executions: Counter<'language' | 'outcome'>;
  readonly queueSeconds: Histogram;
  readonly loadSeconds: Histogram<'language'>;
  readonly execSeconds: Histogram<'language'>;

  constructor(service: Service) {
    collectDefaultMetrics({ register: this.registry, prefix: 'runner_codes_' });
    const registers = [this.registry];
    this.executions = new Counter({
      name: 'runner_codes_executions_total',
      help: 'Executions by language and outcome (ok, exit_nonzero, compile_error, timeout, oom, failed)',
      labelNames: ['language', 'outcome'],
      registers,
    });
    const buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
    this.queueSeconds = new Histogram({ name: 'runner_codes_queue_seconds', help: 'Time an execution waited for a slot', buckets, registers });
    this.loadSeconds = new Histogram({ name: 'runner_codes_load_seconds', help: 'Sandbox start until the agent is ready', labelNames: ['language'], buckets, registers });
    this.execSeconds = new Histogram({ name: 'runner_codes_exec_seconds', help: 'Run-stage wall time', labelNames: ['language'], buckets, registers });
    new Gauge({ name: 'runner_codes_sandboxes_in_use', help: 'Executions running now (one sandbox each)', registers, async collect() { this.set((await service.load()).running); } });
    new Gauge({ name: 'runner_codes_queue_length', help: 'Executions waiting for a slot', registers, async collect() { this.set((await service.load()).queued); } });
    service.onExecuted((result, waitedMs) => this.observe(result, waitedMs));
  }

  observe(result: ExecutionResult, waitedMs: number): void {
    this.queueSeconds.observe(waitedMs / 1000);
    this.executions.inc({ language: result.language, outcome: outcomeOf(result) });
    if (result.status === 'success') {
      this.loadSeconds.observe({ language: result.language }, result.timings.load_ms / 1000);
      this.execSeconds.observe({ language: result.language }, result.timings.exec_ms / 1000);
    }
  }
}

export function outcomeOf(result: ExecutionResult): string {
  if (result.status === 'failed') return 'failed';
  if (result.timed_out) return 'timeout';
  if (result.oom_killed) return 'oom';
  if (result.compile && result.compile.exit_code !== 0) return 'compile_error';
  return result.exit_code === 0 ? 'ok' : 'exit_nonzero';
}
