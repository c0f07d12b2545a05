import { performance } from 'node:perf_hooks';

/** One timed operation: resolves when done, rejects on failure. */
export type Operation = () => Promise<void>;

/** Runs `op` `count` times one after another; returns each wall time in ms. */
export async function sequential(op: Operation, count: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await op();
    samples.push(performance.now() - started);
  }
  return samples;
}

/**
 * Runs each operation `count` times, interleaved (a, b, a, b, …), so that drift in a shared,
 * noisy machine's speed hits every operation alike; returns each one's wall times in ms.
 */
export async function interleaved(ops: readonly Operation[], count: number): Promise<number[][]> {
  const samples = ops.map(() => [] as number[]);
  for (let i = 0; i < count; i++) {
    for (const [index, op] of ops.entries()) {
      const started = performance.now();
      await op();
      samples[index]!.push(performance.now() - started);
    }
  }
  return samples;
}

export interface ConcurrentRun {
  samples: number[];
  failures: number;
  seconds: number;
  throughput: number;
}

/** `clients` loops each running `op` back to back for `durationMs`; latency of each and throughput. */
export async function concurrent(op: Operation, clients: number, durationMs: number): Promise<ConcurrentRun> {
  const samples: number[] = [];
  let failures = 0;
  const started = performance.now();
  const deadline = started + durationMs;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < deadline) {
        const t = performance.now();
        try {
          await op();
          samples.push(performance.now() - t);
        } catch {
          failures++;
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { samples, failures, seconds, throughput: Math.round((samples.length / seconds) * 10) / 10 };
}

/**
 * Concurrent runs of several operations in alternating slices (a, b, a, b, …) that add up to
 * `durationMs` each, so that a noisy machine's drift hits all of them alike.
 */
export async function interleavedConcurrent(ops: readonly Operation[], clients: number, durationMs: number, slices = 4): Promise<ConcurrentRun[]> {
  const runs: ConcurrentRun[] = ops.map(() => ({ samples: [], failures: 0, seconds: 0, throughput: 0 }));
  for (let slice = 0; slice < slices; slice++) {
    for (const [index, op] of ops.entries()) {
      const part = await concurrent(op, clients, durationMs / slices);
      const run = runs[index]!;
      run.samples.push(...part.samples);
      run.failures += part.failures;
      run.seconds += part.seconds;
    }
  }
  for (const run of runs) run.throughput = Math.round((run.samples.length / run.seconds) * 10) / 10;
  return runs;
}
