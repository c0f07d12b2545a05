import { openSync, writeSync } from 'node:fs';

/** Where a queued synchronous job is on its way: the queue benchmark's per-hop split (bench/queue.ts). */
export type Hop = 'api-start' | 'api-add' | 'worker-start' | 'worker-end' | 'api-result';

const file = process.env.RUNNER_CODES_QUEUE_TRACE;
// Opened once at load, only when asked for: the API and the worker of one host append to one file.
const fd = file ? openSync(file, 'a', 0o600) : -1;

/**
 * With RUNNER_CODES_QUEUE_TRACE=<file> (a benchmark's, never a deployment's setting), appends
 * `<monotonic ns> <hop> <trace id>` for each hop of a job (the trace id is the API's request id); CLOCK_MONOTONIC is one clock for every
 * process of a host, so the API's and the worker's lines subtract. Off (the default), a no-op.
 */
export function traceHop(hop: Hop, traceId: string, at: bigint = process.hrtime.bigint()): void {
  if (fd >= 0) writeSync(fd, `${at} ${hop} ${traceId}\n`);
}
