import { after, it } from 'node:test';
import assert from 'node:assert/strict';
import { cgroupMemory, memoryCgroupOf } from '../../src/bench/host-probe.js';
import { runSessionsBench, SESSION_TARGETS } from '../../src/bench/sessions-bench.js';
import { dataPaths } from '../../src/config/paths.js';
import { ImageStore } from '../../src/images/store.js';
import { getLanguage } from '../../src/languages/lookup.js';
import { NOTHING_LEFT, leftovers } from '../helpers/host.js';

/*
 * The sessions part of `npm run bench` (issue 14's performance targets), run for real with a few
 * samples against `infra.operator api` in its own process. Its latency bounds are loose on purpose
 * (the machine is shared); the bench itself prints the figures against the real targets.
 */

after(() => assert.deepEqual(leftovers(), NOTHING_LEFT, 'the bench server left no sandbox behind'));

it('reads a process\'s memory cgroup and that cgroup\'s processes and charge from the host', () => {
  const cgroup = memoryCgroupOf(process.pid);
  assert.ok(cgroup, 'this process is in a cgroup');
  const { pids, chargedBytes } = cgroupMemory(cgroup);
  assert.ok(pids.includes(process.pid), `${cgroup} lists this process`);
  assert.ok(chargedBytes > 0, `${cgroup} is charged for this process`);
  assert.equal(memoryCgroupOf(2 ** 22 + 1), null, 'no such process');
});

it('measures session execute beside bare python, a cell x + 1 over HTTP and the idle interpreter session', async () => {
  const report = await runSessionsBench({ samples: 10, log: () => undefined });
  const { execute, cell, idle } = report;
  assert.equal(execute.bare.n, 10);
  assert.equal(execute.session.n, 10);
  assert.ok(execute.session.p50 < execute.bare.p50 * 3, `session execute p50 ${execute.session.p50} ms within 3× bare ${execute.bare.p50} ms`);
  assert.equal(execute.ratio_p50, Math.round((execute.session.p50 / execute.bare.p50) * 100) / 100);
  assert.equal(execute.met, execute.session.p50 <= execute.bare.p50 * SESSION_TARGETS.executeP50ToBare);
  assert.ok(execute.breakdown.program_ms > 0 && execute.breakdown.program_ms < execute.breakdown.server_total_ms, JSON.stringify(execute.breakdown));
  assert.equal(execute.overhead.session_true.n, 10);

  const images = new ImageStore(dataPaths().imagesDir);
  assert.equal(cell.language, images.manifest(getLanguage('python-datascience').image) ? 'python-datascience' : 'python');
  assert.ok('summary' in cell, `run_code was measured: ${JSON.stringify(cell)}`);
  assert.equal(cell.summary.n, 10);
  assert.ok(cell.summary.p50 < 50, `cell p50 ${cell.summary.p50} ms`);
  assert.ok(cell.kernel_ms <= cell.summary.p50, 'the kernel\'s own time is part of the round trip');

  // The session's own cgroup was found: first the sandbox alone, then with its kernel.
  assert.deepEqual(idle.created.processes.filter((p) => p === 'runner-agent'), ['runner-agent'], JSON.stringify(idle.created));
  assert.ok(!idle.created.processes.includes('python3'), 'no kernel before the first cell');
  assert.ok(idle.kernel?.processes.includes('python3'), JSON.stringify(idle.kernel));
  assert.ok(idle.kernel!.pss_bytes > idle.created.pss_bytes && idle.created.pss_bytes > 0);
  assert.ok(idle.kernel!.cgroup_bytes > 0);
  // Memory does not depend on the machine's load: the target itself.
  assert.ok(idle.kernel!.pss_bytes < SESSION_TARGETS.idleSessionBytes, `idle session PSS ${idle.kernel!.pss_bytes} bytes`);
  assert.equal(idle.met, true);
});
