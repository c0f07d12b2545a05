import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withBlobLock } from '../../src/images/registry/blob-lock.js';

/**
 * Two pulls into one data home (api --pull and worker --pull starting together) must never download
 * the same blob at once. CI once saw both download: the lock was created empty and its pid written
 * after, and the other pull, reading it in between, took it for a stale lock.
 */
describe('blob lock', () => {
  it('a fresh empty lock (its pid not written yet) is waited for, not taken over', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rc-blob-lock-'));
    try {
      const temp = join(dir, 'sha256-abc.partial');
      writeFileSync(`${temp}.lock`, '');
      let entered = false;
      const held = withBlobLock(temp, async () => {
        entered = true;
      });
      await new Promise((resolve) => setTimeout(resolve, 600));
      assert.equal(entered, false, 'entered while another pull was creating the lock');
      rmSync(`${temp}.lock`);
      await held;
      assert.equal(entered, true);
      assert.deepEqual(readdirSync(dir), [], 'no lock or candidate file left');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a lock of a process that is gone is taken over; a live holder is waited for', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rc-blob-lock-'));
    try {
      const temp = join(dir, 'sha256-def.partial');
      writeFileSync(`${temp}.lock`, '2147483646'); // no such pid
      let ran = 0;
      await withBlobLock(temp, async () => void ran++);
      assert.equal(ran, 1);
      const order: string[] = [];
      await Promise.all([
        withBlobLock(temp, async () => {
          order.push('a+');
          await new Promise((resolve) => setTimeout(resolve, 300));
          order.push('a-');
        }),
        new Promise((resolve) => setTimeout(resolve, 50)).then(() => withBlobLock(temp, async () => void order.push('b'))),
      ]);
      assert.deepEqual(order, ['a+', 'a-', 'b']);
      assert.deepEqual(readdirSync(dir), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
