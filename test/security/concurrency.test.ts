import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { get } from '../helpers/server.js';
import { securityServer } from '../helpers/hostile.js';
import { settled, userProcesses } from '../helpers/sandbox-procs.js';

/**
 * 100 hostile jobs at once: fork bombs, memory bombs, spins, floods, disk fills and daemons. The
 * server must stay responsive (health answered quickly throughout), every job must end with a
 * result, sandboxes must stay within their pids limit, and nothing may be left afterwards.
 */

const HOSTILE: [string, string][] = [
  ['bash', 'bomb() { bomb | bomb & }; bomb; sleep 5'],
  ['python', 'x = []\nwhile True: x.append(bytearray(1 << 23))\n'],
  ['python', 'while True: pass\n'],
  ['bash', 'yes; yes >&2'],
  ['bash', 'head -c 100M /dev/zero > /tmp/f; head -c 100M /dev/zero > /dev/shm/f; sleep 5'],
  ['bash', '(setsid sleep 100 &); ( ( trap "" TERM; sleep 100 ) & ); kill -STOP $$'],
  ['javascript', 'for (;;) {}'],
  ['c', '#include <unistd.h>\nint main(void) { for (;;) fork(); }\n'],
];

describe('concurrency abuse', async () => {
  const server = await securityServer({ queueLimit: 128 });

  it('100 hostile jobs at once: every one ends, the API stays responsive, nothing is left', async () => {
    let running = true;
    let maxHealthMs = 0;
    let maxProcesses = 0;
    const prober = (async () => {
      while (running) {
        const started = performance.now();
        assert.equal((await get(server.base, '/health')).status, 200);
        maxHealthMs = Math.max(maxHealthMs, performance.now() - started);
        const perSandbox = new Map<string, number>();
        for (const p of userProcesses()) perSandbox.set(p.sandbox, (perSandbox.get(p.sandbox) ?? 0) + 1);
        maxProcesses = Math.max(maxProcesses, ...perSandbox.values(), 0);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    const started = performance.now();
    const jobs = Array.from({ length: 100 }, (_, i) => {
      const [language, code] = HOSTILE[i % HOSTILE.length]!;
      return server.send({ language, code, timeout: 300, memory: 64, pids: 16, output_limit: 65536 });
    });
    const replies = await Promise.all(jobs);
    const elapsed = performance.now() - started;
    running = false;
    await prober;
    const statuses = replies.map((r) => r.status);
    assert.deepEqual(statuses.filter((s) => s !== 200), [], `not every job got a result: ${statuses.join(',')}`);
    assert.ok(replies.every((r) => r.body.status === 'success'), 'an infrastructure failure');
    assert.ok(replies.some((r) => r.body.timed_out) && replies.some((r) => r.body.oom_killed), 'the attacks ran');
    assert.ok(maxProcesses <= 16, `${maxProcesses} processes in one sandbox under pids=16`);
    assert.ok(maxHealthMs < 2000, `/health took ${Math.round(maxHealthMs)} ms during the storm`);
    assert.ok(elapsed < 120_000, `the storm took ${Math.round(elapsed)} ms`);
    assert.deepEqual(await settled(), []);
  });
});
