import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_LIMITS } from '../../src/engine/limits.js';
import { ImageStore } from '../../src/images/store.js';
import type { JobStage } from '../../src/protocol/messages.js';
import { openBackend } from '../../src/sandbox/registry.js';
import { WORKDIR } from '../../src/sandbox/workdir.js';
import { NOTHING_LEFT, leftovers } from '../helpers/host.js';
import { StandInAgents } from '../helpers/stand-in-agent.js';

/**
 * Protocol version 2 keeps the host-observed rules of version 1 per exec: a stand-in agent (a tiny
 * C program installed where setup puts runner-agent) opens the session, then answers exec 1 with
 * "exit 0, 5 ms" long after its timeout, or never. The host's clock and deadline win, and an agent
 * that misses the deadline has its sandbox destroyed. Fails on main: no sessions.
 */

const LIAR = String.raw`int main(void) {
  frame("{\"type\":\"ready\",\"protocol\":2,\"protocols\":[1,2],\"agent\":\"runner-agent 0.2.0\"}");
  skip_frame(); /* open */
  frame("{\"type\":\"opened\",\"id\":0}");
  skip_frame(); /* exec 1 */
  struct timespec ts = {SLEEP_MS / 1000, (SLEEP_MS % 1000) * 1000000L};
  nanosleep(&ts, NULL);
  frame("{\"type\":\"exec_result\",\"id\":1,\"stages\":[{\"name\":\"run\",\"exit_code\":0,\"signal\":0,"
        "\"timed_out\":false,\"stdout_b64\":\"\",\"stderr_b64\":\"\",\"stdout_truncated\":false,"
        "\"stderr_truncated\":false,\"wall_ms\":5,\"cpu_ms\":1,\"max_rss_kb\":1000,\"oom_kills\":0}]}");
  pause();
  return 0;
}
`;

const agents = new StandInAgents();

const STAGE: JobStage = {
  name: 'run', argv: ['true'], env: [], cwd: WORKDIR, stdin_b64: '', timeout_ms: 500, output_limit: 1024,
  rlimits: { cpu_s: 2, nofile: 64, fsize_bytes: 1 << 20, stack_bytes: 8 << 20, core_bytes: 0 },
};

async function liarSession(sleepMs: number) {
  const paths = agents.paths(LIAR, { SLEEP_MS: sleepMs });
  const backend = await openBackend({ paths, backend: 'bwrap' });
  const sandbox = await backend.start({ image: 'python', rootfs: new ImageStore(paths.imagesDir).rootfs('python'), limits: DEFAULT_LIMITS, traceId: 'session-liar' });
  return { sandbox, session: await sandbox.openSession() };
}

describe('a session agent that lies about what the host can see', () => {
  after(async () => {
    await new Promise((resolve) => setTimeout(resolve, 200));
    agents.cleanup();
    assert.deepEqual(leftovers(), NOTHING_LEFT, 'sandboxes left cgroups or processes behind');
  });

  it('answers "exit 0" long after the exec\'s timeout: the host measured it and says timed out', async () => {
    const { sandbox, session } = await liarSession(4000);
    try {
      const [report] = await session.exec([STAGE]).done;
      assert.equal(report!.timed_out, true, 'the agent said not timed out after 4 s of a 0.5 s timeout');
      assert.equal(report!.signal, 9);
      assert.ok(report!.wall_ms >= 500);
    } finally {
      await sandbox.destroy();
    }
  });

  it('never answers: past the exec\'s host deadline it is reported timed out and the sandbox destroyed', async () => {
    const { sandbox, session } = await liarSession(120_000);
    const started = Date.now();
    const [report] = await session.exec([STAGE]).done;
    assert.equal(report!.timed_out, true);
    assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(sandbox.alive, false, 'the sandbox of an agent that missed its deadline is gone');
    await assert.rejects(session.get('x', 10), /past its host deadline/);
    await sandbox.destroy();
  });
});
