import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ExecutionResult } from '../engine/result.js';
import type { Service } from '../engine/service.js';

/**
 * How often the default metrics' event-loop monitor samples (prom-client's default is 10 ms): every
 * sample is a timer that wakes the HTTP side, 100 times a second by default even when idle, which
 * cost it ~6 ms of CPU a second here (docs/performance.md). Each sample still measures the delay to
 * the nanosecond; the lag percentiles come from 10 samples a second instead of 100.
 */
export const EVENT_LOOP_SAMPLE_MS = 100;

/** Every metric the server exports, declared in one place, fed by the service's hook points. */
export class ApiMetrics {
  readonly registry = new Registry();
  readonly executions: Counter<'language' | 'outcome'>;
  readonly queueSeconds: Histogram;
  readonly loadSeconds: Histogram<'language'>;
  readonly execSeconds: Histogram<'language'>;

  constructor(service: Service) {
    collectDefaultMetrics({ register: this.registry, prefix: 'runner_codes_', eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
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
    poolMetrics(service, registers);
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

/**
 * The warm pools of every backend the service offers, sampled at each scrape: idle sandboxes, hits
 * and misses per backend and image, the memory charged to idle sandboxes per backend.
 */
function poolMetrics(service: Service, registers: Registry[]): void {
  type Field = 'idle' | 'starting' | 'hits' | 'misses' | 'evicted';
  const sample = async (field: Field, set: (labels: Record<'backend' | 'image', string>, value: number) => void): Promise<void> => {
    for (const entry of (await service.poolStats())?.images ?? []) set({ backend: entry.backend, image: entry.image }, entry[field]);
  };
  const labelNames = ['backend', 'image'] as const;
  for (const [name, field, help] of [
    ['runner_codes_pool_idle_sandboxes', 'idle', 'Warm sandboxes waiting, per backend and image'],
    ['runner_codes_pool_starting_sandboxes', 'starting', 'Warm sandboxes starting, per backend and image'],
  ] as const) {
    new Gauge({ name, help, labelNames, registers, collect() { this.reset(); return sample(field, (labels, value) => this.set(labels, value)); } });
  }
  // Counted by the pools themselves: each scrape reports their totals.
  for (const [name, field, help] of [
    ['runner_codes_pool_hits_total', 'hits', 'Executions served by a warm sandbox, per backend and image'],
    ['runner_codes_pool_misses_total', 'misses', 'Executions that found no warm sandbox and started one cold, per backend and image'],
    ['runner_codes_pool_evictions_total', 'evicted', "Warm sandboxes destroyed to make room for a higher-ranked backend's pool (they share one budget)"],
  ] as const) {
    new Counter({ name, help, labelNames, registers, collect() { this.reset(); return sample(field, (labels, value) => this.inc(labels, value)); } });
  }
  new Gauge({
    name: 'runner_codes_pool_idle_memory_bytes',
    help: 'Memory charged to the warm sandboxes, per backend (all backends share pool_max_idle_memory)',
    labelNames: ['backend'],
    registers,
    async collect() {
      this.reset();
      for (const entry of (await service.poolStats())?.backends ?? []) this.set({ backend: entry.backend }, entry.idle_memory_bytes);
    },
  });
}

export function outcomeOf(result: ExecutionResult): string {
  if (result.status === 'failed') return 'failed';
  if (result.timed_out) return 'timeout';
  if (result.oom_killed) return 'oom';
  if (result.compile && result.compile.exit_code !== 0) return 'compile_error';
  return result.exit_code === 0 ? 'ok' : 'exit_nonzero';
}
