import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCgroupDriver } from '../../src/sandbox/cgroup/detect.js';
import type { CgroupDriver } from '../../src/sandbox/cgroup/types.js';
import { jailDir, jailedStarter, jailerArgs, type JailPlan } from '../../src/sandbox/firecracker/jailer.js';
import { sandboxName } from '../../src/sandbox/names.js';
import { parseJailerArgs } from '../helpers/fake-jailer.js';

/**
 * The jailer's command line and the chroot the host prepares for it. The arguments are checked by
 * the stand-in jailer's parser, which follows the jailer's own rules (docs/jailer.md, env.rs).
 */
describe('Firecracker jailer plan', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rc-jail-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const firecracker = join(dir, 'firecracker-v1.16.1-x86_64');
  writeFileSync(firecracker, '#!/bin/sh\n', { mode: 0o755 });
  const id = sandboxName(process.pid, 1879048200);
  const plan = (over: Partial<JailPlan> = {}): JailPlan => ({
    id,
    execFile: firecracker,
    uid: 1879048200,
    gid: 1879048200,
    chrootBase: dir,
    cgroupVersion: 1,
    parentCgroup: 'runner-codes',
    cgroupSettings: [
      { file: 'pids.max', value: '64' },
      { file: 'cpu.cfs_quota_us', value: '100000' },
    ],
    firecrackerArgs: ['--api-sock', '/api.sock'],
    ...over,
  });

  it('says everything the jailer needs, in a form the jailer accepts', () => {
    const parsed = parseJailerArgs(jailerArgs(plan()));
    assert.equal(parsed.id, plan().id);
    assert.equal(parsed.execFile, firecracker);
    assert.equal(parsed.uid, 1879048200);
    assert.equal(parsed.gid, 1879048200);
    assert.equal(parsed.chrootBase, dir);
    assert.equal(parsed.cgroupVersion, 1);
    assert.equal(parsed.parentCgroup, 'runner-codes');
    assert.deepEqual(parsed.cgroups, plan().cgroupSettings);
    assert.equal(parsed.newPidNs, true, 'Firecracker is PID 1 of a namespace of its own');
    assert.equal(parsed.daemonize, false, 'the console stays on the stdout the host reads');
    assert.deepEqual(parsed.extra, ['--api-sock', '/api.sock']);
    assert.equal(parseJailerArgs(jailerArgs(plan({ cgroupVersion: 2 }))).cgroupVersion, 2);
  });

  it('refuses an id the jailer would refuse, before starting anything', () => {
    assert.throws(() => jailerArgs(plan({ id: 'rc/../etc' })), /not a valid jailer id/);
    assert.throws(() => jailerArgs(plan({ id: 'x'.repeat(65) })), /not a valid jailer id/);
  });

  it('names the jail after the binary\'s real file, which must say firecracker', () => {
    const link = join(dir, 'fc-link');
    symlinkSync(firecracker, link);
    assert.equal(jailDir('/srv/jail', link, 'rc-1-u2-ab'), '/srv/jail/firecracker-v1.16.1-x86_64/rc-1-u2-ab');
    const other = join(dir, 'vmm');
    writeFileSync(other, '', { mode: 0o755 });
    assert.throws(() => jailDir('/srv/jail', other, 'rc-1-u2-ab'), /file name contains 'firecracker'/);
  });

  it('hard-links the VM files into a root-only chroot, and names the fix when the jail is on another file system', async () => {
    const shared = join(dir, 'disk.ext4');
    writeFileSync(shared, 'disk');
    const cgroups = { version: 1, parent: 'runner-codes' } as CgroupDriver;
    const config = { jailerPath: '/usr/bin/jailer', chrootBase: join(dir, 'jail'), reaperPath: '/usr/lib/runner-reaper' };
    const vm = { name: sandboxName(process.pid, 1879048200), uid: 1879048200, cgroup: { settings: () => plan().cgroupSettings } as never };
    const starter = jailedStarter(config, firecracker, cgroups, { 'rootfs.ext4': shared }, ['--api-sock', '/api.sock']);
    const root = await starter.prepare(vm);
    assert.equal(root, join(jailDir(config.chrootBase, firecracker, vm.name), 'root'));
    assert.equal(statSync(root).mode & 0o777, 0o700);
    assert.equal(statSync(join(root, 'rootfs.ext4')).ino, statSync(shared).ino, 'a hard link, not a copy');
    const command = starter.command(vm, root);
    assert.deepEqual(command.slice(0, 3), ['/usr/lib/runner-reaper', '--', '/usr/bin/jailer'], 'the reaper holds what the jailer leaves');
    assert.equal(parseJailerArgs(command.slice(3)).id, vm.name);
    await starter.remove(vm);
    assert.equal(existsSync(jailDir(config.chrootBase, firecracker, vm.name)), false);

    if (!existsSync('/dev/shm') || statSync('/dev/shm').dev === statSync(dir).dev) return;
    const otherBase = mkdtempSync('/dev/shm/rc-jail-');
    const elsewhere = jailedStarter({ ...config, chrootBase: otherBase }, firecracker, cgroups, { 'rootfs.ext4': shared }, []);
    try {
      await assert.rejects(elsewhere.prepare(vm), (err: Error & { hint?: string }) => /on another file system/.test(err.message) && /file system of the data dir/.test(err.hint ?? ''));
    } finally {
      rmSync(otherBase, { recursive: true, force: true });
    }
  });
});

describe('cgroup settings the jailer writes', { skip: process.getuid?.() !== 0 ? 'needs root (real cgroups)' : false }, () => {
  it('are one limit file per hierarchy, each holding the value the jailer will write again', async () => {
    const driver = openCgroupDriver();
    const cgroup = driver.create(sandboxName(), { memoryBytes: 256 * 1024 * 1024, pids: 64, cpus: 1 });
    try {
      const settings = cgroup.settings();
      assert.deepEqual(settings.map((s) => s.file.split('.')[0]), driver.version === 1 ? ['memory', 'pids', 'cpu', 'freezer'] : ['memory', 'pids', 'cpu']);
      for (const { file, value } of settings) {
        assert.equal(file.split('.').length, 2, `${file}: the jailer takes controller.property`);
        const controller = file.split('.')[0]!;
        const at = driver.version === 1 ? join('/sys/fs/cgroup', controller, driver.parent, cgroup.name, file) : join('/sys/fs/cgroup', driver.parent, cgroup.name, file);
        assert.equal(readFileSync(at, 'utf8').trim(), value, `${file} already holds ${value}`);
      }
    } finally {
      await cgroup.destroy();
    }
  });
});
