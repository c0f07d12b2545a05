import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * The HTTP side's metrics keep it asleep while nothing happens: prom-client's event-loop monitor
 * sampled every 10 ms by default, a wake-up of the process 100 times a second (docs/performance.md).
 * Counted in a process of its own that holds the metrics and nothing else: its main thread's
 * voluntary context switches over one idle second. The lag metrics are still exported.
 */
const METRICS = fileURLToPath(new URL('../../src/api/metrics.js', import.meta.url));

const PROBE = `
const { ApiMetrics } = await import(process.argv[1]);
// The service as the metrics see it between scrapes: only onExecuted is called before one.
const metrics = new ApiMetrics({ onExecuted() {}, load: async () => ({ running: 0, queued: 0 }), poolStats: async () => null });
const { readFileSync } = await import('node:fs');
const switches = () => Number(/voluntary_ctxt_switches:\\s+(\\d+)/.exec(readFileSync('/proc/thread-self/status', 'utf8'))[1]);
await new Promise((resolve) => setTimeout(resolve, 300));
const before = switches();
await new Promise((resolve) => setTimeout(resolve, 1000));
const woken = switches() - before;
const text = await metrics.registry.metrics();
console.log(JSON.stringify({ woken, lag: /runner_codes_nodejs_eventloop_lag_p99_seconds \\d/.test(text) }));
`;

describe('the HTTP side idle', { skip: process.platform !== 'linux' ? 'reads /proc' : false }, () => {
  it('is woken a few times a second by its metrics, not a hundred, and still exports the event-loop lag', () => {
    const out = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', PROBE, METRICS], { encoding: 'utf8' })) as { woken: number; lag: boolean };
    assert.ok(out.woken < 40, `the main thread was woken ${out.woken} times in one idle second`);
    assert.equal(out.lag, true, 'runner_codes_nodejs_eventloop_lag_p99_seconds is exported');
  });
});
