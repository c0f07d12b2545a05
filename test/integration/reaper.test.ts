import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dataPaths } from '../../src/config/paths.js';

/**
 * runner-reaper (agent/src/reaper.c), the real binary: it holds what a jailer leaves behind, reports
 * the last descendant's status, and takes every descendant with it when its parent dies.
 */
const reaper = dataPaths().reaper;
const skip = existsSync(reaper) || process.env.CI === 'true' ? false : `runner-reaper is not built (${reaper}): run \`infra.operator setup\``;

/** Live (not zombie) `sleep SECONDS` processes. */
function sleeping(seconds: readonly string[]): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        return argv[0] === 'sleep' && seconds.includes(argv[1]!) && !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('runner-reaper', { skip }, () => {
  it('exits with the status of the last descendant, an orphan its child left behind', () => {
    const run = spawnSync(reaper, ['--', 'sh', '-c', '(sleep 0.3; exit 7) & exit 0']);
    assert.equal(run.status, 7);
  });

  it('refuses a bad command line or program with status 125, saying why', () => {
    const usage = spawnSync(reaper, ['sh']);
    assert.equal(usage.status, 125);
    assert.match(usage.stderr.toString(), /^runner-reaper: usage: runner-reaper -- PROG/);
    const missing = spawnSync(reaper, ['--', '/nonexistent/jailer']);
    assert.equal(missing.status, 125);
    assert.match(missing.stderr.toString(), /runner-reaper: exec \/nonexistent\/jailer: No such file or directory/);
  });

  for (const [n, how] of (['its parent dies', 'it gets SIGTERM'] as const).entries()) {
    it(`kills every descendant when ${how}, even one in a session of its own`, async () => {
      // Durations no other process here uses: the tree's processes are found by them.
      const seconds = [1, 2, 3].map((i) => String(900_000 + (process.pid % 10_000) * 10 + n * 4 + i));
      // The parent: a shell that starts the reaper and waits; below it, a tree like a jailer's that forked and left.
      const tree = `(setsid sleep ${seconds[0]} & sleep ${seconds[1]}) & exec sleep ${seconds[2]}`;
      const parent = spawn('sh', ['-c', `${reaper} -- sh -c '${tree}' & wait`], { stdio: 'ignore' });
      for (let i = 0; i < 50 && sleeping(seconds).length < 3; i++) await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(sleeping(seconds).length, 3, 'the tree runs');
      if (how === 'its parent dies') parent.kill('SIGKILL');
      else spawnSync('pkill', ['-TERM', '-f', `^${reaper} -- sh -c .*${seconds[2]}`]);
      for (let i = 0; i < 50 && sleeping(seconds).length > 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(sleeping(seconds), [], 'nothing of the tree is left');
      parent.kill('SIGKILL');
    });
  }
});
