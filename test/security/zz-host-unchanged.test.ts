import { it } from 'node:test';
import assert from 'node:assert/strict';
import { leftovers, NOTHING_LEFT } from '../helpers/host.js';
import { planted } from '../helpers/hostile.js';
import { sandboxProcesses } from '../helpers/sandbox-procs.js';

/**
 * Runs after the other security files (named to sort last): the whole host, not just the usual
 * targets, has no file owned by a sandbox uid or named with the attack marker, and no sandbox
 * process, cgroup or mount of ours is left. Each file also checks its own attacks when it ends.
 */
it('after the suite the host holds nothing a sandbox made', () => {
  assert.deepEqual(planted(['/', '/tmp', '/dev/shm', '/run', '/var/tmp']), []);
  assert.deepEqual(leftovers(), NOTHING_LEFT);
  assert.deepEqual(sandboxProcesses(true).filter((p) => p.uids.includes(0) && p.comm !== 'runner-launch'), [], 'a sandboxed process runs as host root');
});
