import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { dataPaths } from '../../src/config/paths.js';
import type { Engine } from '../../src/engine/engine.js';
import { openEngine } from '../../src/compose/open-engine.js';
import { NOTHING_LEFT, leftovers } from '../helpers/host.js';
import { StandInAgents } from '../helpers/stand-in-agent.js';

/**
 * The agent runs beside the code it reports on, so the host must not take its word for what it can
 * see itself. Stand-in agents (tiny C programs installed where setup puts runner-agent, in a test
 * data dir of their own) lie: they answer "exit 0, not timed out, no OOM" whatever happened.
 * The host's own clock, deadline and cgroup counters must win.
 */

const LIAR = String.raw`int main(void) {
  frame("{\"type\":\"ready\",\"protocol\":1,\"agent\":\"runner-agent 0.1.0\"}");
  skip_frame();
  if (OOM) {
    /* A child far larger than the cgroup allows: the kernel's OOM killer takes it. */
    pid_t pid = fork();
    if (pid == 0) {
      size_t size = 512u << 20;
      char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      for (size_t i = 0; p != MAP_FAILED && i < size; i += 4096) p[i] = 1;
      _exit(0);
    }
    waitpid(pid, NULL, 0);
  }
  struct timespec ts = {SLEEP_MS / 1000, (SLEEP_MS % 1000) * 1000000L};
  nanosleep(&ts, NULL);
  frame("{\"type\":\"result\",\"protocol\":1,\"stages\":[{\"name\":\"run\",\"exit_code\":0,\"signal\":0,"
        "\"timed_out\":false,\"stdout_b64\":\"YWxsIGdvb2QK\",\"stderr_b64\":\"\",\"stdout_truncated\":false,"
        "\"stderr_truncated\":false,\"wall_ms\":5,\"cpu_ms\":1,\"max_rss_kb\":1000,\"oom_kills\":0}]}");
  return 0;
}
`;

const agents = new StandInAgents();

/** A data dir like setup makes, but whose runner-agent is a liar built with these settings. */
function liarPaths(settings: { sleepMs: number; oom?: boolean }): ReturnType<typeof dataPaths> {
  return agents.paths(LIAR, { SLEEP_MS: settings.sleepMs, OOM: settings.oom ? 1 : 0 });
}

describe('an agent that lies about what the host can see', () => {
  const engines: Engine[] = [];
  const open = async (settings: { sleepMs: number; oom?: boolean }): Promise<Engine> => {
    const engine = await openEngine({ backend: 'bwrap', paths: liarPaths(settings) });
    engines.push(engine);
    return engine;
  };
  after(async () => {
    for (const engine of engines) await engine.close();
    await new Promise((resolve) => setTimeout(resolve, 200));
    agents.cleanup();
    assert.deepEqual(leftovers(), NOTHING_LEFT, 'sandboxes left cgroups or processes behind');
  });

  it('answers "not timed out" long after the timeout: the host measured the job and says timed out', async () => {
    const engine = await open({ sleepMs: 5000 });
    const result = await engine.execute({ language: 'bash', code: 'true', limits: { timeoutMs: 1000 } });
    assert.equal(result.status, 'success', JSON.stringify(result.error));
    assert.equal(result.timed_out, true, 'the agent said not timed out after 5 s of a 1 s timeout');
    assert.equal(result.signal, 'SIGKILL');
    assert.ok(result.timings.total_ms >= 5000, `host total ${result.timings.total_ms} ms`);
  });

  it('never answers: the host\'s own deadline kills the sandbox and reports the timeout, not an infrastructure error', async () => {
    const engine = await open({ sleepMs: 120_000 });
    const started = Date.now();
    const result = await engine.execute({ language: 'bash', code: 'true', limits: { timeoutMs: 1000 } });
    assert.equal(result.status, 'success', JSON.stringify(result.error));
    assert.equal(result.timed_out, true);
    // The deadline is the stages' timeouts plus the host's grace (src/engine/job.ts), not the agent's sleep.
    assert.ok(Date.now() - started < 15_000, `took ${Date.now() - started} ms`);
    assert.deepEqual(leftovers(), NOTHING_LEFT, 'the sandbox was not killed');
  });

  it('answers "no OOM" after the cgroup counted one: the cgroup\'s counter wins', async () => {
    const engine = await open({ sleepMs: 0, oom: true });
    const result = await engine.execute({ language: 'bash', code: 'true', limits: { memoryMb: 64 } });
    assert.equal(result.status, 'success', JSON.stringify(result.error));
    assert.equal(result.oom_killed, true);
  });
});
