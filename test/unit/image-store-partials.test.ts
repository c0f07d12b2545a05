import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageStore } from '../../src/images/store.js';

/** A pid no process has: a child that has exited and been reaped. */
async function deadPid(): Promise<number> {
  const child = spawn('true');
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

describe('ImageStore.partialBuilds', () => {
  it("names the leftovers of builds and imports whose process is gone, never a running build's directory", async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'rc-store-partials-'));
    const running = spawn('sleep', ['30']);
    t.after(() => {
      running.kill();
      rmSync(dir, { recursive: true, force: true });
    });
    const dead = await deadPid();
    const names = {
      deadBuild: `.build-python-datascience-${dead}`,
      deadOld: `.old-go-${dead}`,
      deadLink: `.link-python-${dead}-0123456789ab`,
      ownBuild: `.build-lua-${process.pid}`,
      runningBuild: `.build-go-${running.pid}`,
      runningLink: `.link-node-${running.pid}-ba9876543210`,
      image: 'python',
      unrelated: '.build-notes',
    };
    for (const name of Object.values(names)) mkdirSync(join(dir, name));
    const partial = new ImageStore(dir).partialBuilds().sort();
    assert.deepEqual(partial, [names.deadBuild, names.ownBuild, names.deadLink, names.deadOld].sort());
  });
});
