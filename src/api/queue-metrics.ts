import { Gauge, Histogram, type Registry } from 'prom-client';
import type { Queue } from 'bullmq';
import type { Fleet } from '../queue/fleet.js';

/** What the queue metrics read of the API's QueueService (types only: BullMQ loads in queue mode alone). */
export interface QueueMetricsSource {
  readonly fleet: Fleet;
  queue(name: string): Queue;
  onWaited(hook: (waitedMs: number) => void): void;
}

/** BullMQ's job states, as the `state` label of runner_codes_queue_jobs. */
const JOB_STATES = ['waiting', 'prioritized', 'active', 'delayed', 'waiting-children', 'completed', 'failed'] as const;

/**
 * The queue's metrics on the API's /metrics (queue mode), sampled from Redis at each scrape, so
 * every replica reports the same fleet-wide figures (take `max`, not `sum`, across replicas):
 * jobs per profile queue and state, live workers and their slots per queue. The wait histogram is
 * per replica: the jobs this replica queued (synchronous calls and submissions), from being queued
 * to a worker taking them.
 */
export function registerQueueMetrics(registry: Registry, source: QueueMetricsSource): void {
  const registers = [registry];
  const queues = (): string[] => [...new Set([...source.fleet.profiles.keys(), ...source.fleet.live.keys()])];
  new Gauge({
    name: 'runner_codes_queue_jobs',
    help: 'Jobs in each queue by BullMQ state (waiting, prioritized, active, delayed, waiting-children, completed, failed), fleet-wide',
    labelNames: ['queue', 'state'],
    registers,
    async collect() {
      this.reset();
      // Redis down: the series are absent this scrape (the scrape itself still answers).
      const counts = await Promise.all(queues().map(async (name) => [name, await source.queue(name).getJobCounts(...JOB_STATES).catch(() => undefined)] as const));
      for (const [queue, byState] of counts) {
        if (!byState) continue;
        for (const state of JOB_STATES) this.set({ queue, state }, byState[state] ?? 0);
      }
    },
  });
  new Gauge({
    name: 'runner_codes_workers',
    help: 'Live workers (heartbeat within its TTL) serving each profile queue, from their registrations in Redis',
    labelNames: ['queue'],
    registers,
    collect() {
      this.reset();
      for (const [queue, live] of source.fleet.live) this.set({ queue }, live.workers.length);
    },
  });
  new Gauge({
    name: 'runner_codes_worker_slots',
    help: 'Jobs the live workers of each profile queue can run at once (their --concurrency, summed), and how many run now',
    labelNames: ['queue', 'kind'],
    registers,
    collect() {
      this.reset();
      for (const [queue, live] of source.fleet.live) {
        this.set({ queue, kind: 'total' }, live.workers.reduce((sum, w) => sum + w.concurrency, 0));
        this.set({ queue, kind: 'running' }, live.workers.reduce((sum, w) => sum + w.running, 0));
      }
    },
  });
  const wait = new Histogram({
    name: 'runner_codes_queue_wait_seconds',
    help: 'Time a job of this replica (a synchronous call or a submission) waited in its queue until a worker took it',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers,
  });
  source.onWaited((waitedMs) => wait.observe(waitedMs / 1000));
}
