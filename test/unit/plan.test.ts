import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bwrapArgs, DEV_NODES, PROC_MASKS, WRITABLE_MOUNTS } from '../../src/sandbox/bwrap/plan.js';
import { launchArgs } from '../../src/sandbox/launch.js';

describe('bwrap plan', () => {
  const args = bwrapArgs({ rootfs: '/img/python/rootfs', agentBinary: '/bin/agent', tmpfsBytes: 1024, hostname: 'sandbox' });
  const has = (...seq: string[]): boolean => args.some((_, i) => seq.every((s, j) => args[i + j] === s));

  it('unshares every namespace and gives the agent only the capabilities it needs', () => {
    for (const ns of ['pid', 'net', 'ipc', 'uts', 'cgroup']) assert.ok(args.includes(`--unshare-${ns}`), ns);
    // The user namespace is the launcher's (two host uids), on fd 4; the agent is its uid 0.
    assert.ok(has('--userns', '4', '--uid', '0', '--gid', '0'));
    assert.ok(!args.includes('--unshare-user'));
    const caps = args.flatMap((a, i) => (a === '--cap-add' ? [args[i + 1]] : []));
    assert.deepEqual(caps, ['CAP_SETUID', 'CAP_SETGID', 'CAP_KILL', 'CAP_CHOWN']);
    assert.ok(args.indexOf('--cap-drop') < args.indexOf('--cap-add') && has('--cap-drop', 'ALL'));
    assert.ok(args.includes('--die-with-parent'));
    assert.ok(args.includes('--new-session'));
    assert.ok(has('--seccomp', '3'));
  });

  it('mounts the image read-only as / and only size-capped tmpfs writable', () => {
    assert.ok(has('--ro-bind', '/img/python/rootfs', '/'));
    assert.ok(!args.includes('--bind'), 'no writable bind mounts of host paths');
    for (const dir of ['/tmp', '/dev/shm', '/work']) {
      const i = args.indexOf(dir);
      assert.equal(args[i - 1], '--tmpfs');
      assert.equal(args[i - 5], '--size');
      assert.equal(args[i - 4], '1024');
    }
  });

  it('builds a small read-only /dev: device nodes, fd links, a capped /dev/shm, no ptys', () => {
    assert.ok(!args.includes('--dev'), "bwrap's --dev mounts a writable tmpfs of half the host's RAM");
    const dev = args.indexOf('/dev');
    assert.deepEqual(args.slice(dev - 5, dev), ['--size', '65536', '--perms', '0755', '--tmpfs']);
    for (const node of DEV_NODES) assert.ok(has('--dev-bind', node, node), node);
    assert.ok(has('--symlink', '/proc/self/fd', '/dev/fd'));
    assert.ok(!args.some((a) => /^\/dev\/(pts|ptmx)/.test(a)), 'devpts draws on the host-wide kernel.pty.max');
    const remount = args.indexOf('--remount-ro', dev);
    assert.equal(args[remount + 1], '/dev');
    assert.ok(remount > args.indexOf('/dev/shm'), 'read-only after /dev/shm is mounted on it');
    assert.deepEqual(WRITABLE_MOUNTS.map((m) => m.path), ['/tmp', '/dev/shm', '/work']);
  });

  it('through the fork server binds the launch namespace\'s prepared /dev whole, and builds nothing of it', () => {
    const prepared = bwrapArgs({ rootfs: '/r', agentBinary: '/a', tmpfsBytes: 1024, hostname: 'sandbox', launchNamespaceDev: true });
    const at = (seq: string[]): number => prepared.findIndex((_, i) => seq.every((s, j) => prepared[i + j] === s));
    const dev = at(['--dev-bind', '/dev', '/dev']);
    assert.ok(dev > prepared.indexOf('/proc'), 'after /proc');
    assert.ok(dev < prepared.indexOf('/dev/shm'), '/dev/shm is mounted on it');
    // One /dev mount: no tmpfs, no per-node binds, no links, no remount (it is read-only already).
    assert.equal(prepared.filter((a) => a === '/dev').length, 2);
    assert.ok(!prepared.some((a, i) => a.startsWith('/dev/') && a !== '/dev/shm' && prepared[i - 1] !== '--ro-bind'), 'nothing else under /dev but /dev/shm');
    assert.ok(!prepared.includes('--symlink') && !prepared.includes('--remount-ro'));
    assert.deepEqual(prepared.filter((_, i) => prepared[i - 1] === '--tmpfs'), WRITABLE_MOUNTS.map((m) => m.path));
    // The rest of the plan is the same.
    const built = bwrapArgs({ rootfs: '/r', agentBinary: '/a', tmpfsBytes: 1024, hostname: 'sandbox' });
    assert.deepEqual(prepared.slice(0, dev), built.slice(0, built.indexOf('/dev') - 5));
    assert.deepEqual(launchArgs({ cgroupProcsFiles: [], hostUid: 70_000, hostGid: 70_000, programUid: 70_001, requireSandboxDev: true }).slice(-2), ['--require-sandbox-dev', '--']);
  });

  it('masks host details in /proc after mounting it', () => {
    const masked = bwrapArgs({ rootfs: '/r', agentBinary: '/a', tmpfsBytes: 1024, hostname: 'sandbox', procMasks: { files: ['/proc/cmdline'], dirs: ['/proc/acpi'] } });
    const proc = masked.indexOf('/proc');
    const file = masked.indexOf('/proc/cmdline');
    assert.ok(proc > 0 && file > proc);
    assert.deepEqual(masked.slice(file - 2, file + 1), ['--ro-bind', '/dev/null', '/proc/cmdline']);
    const dir = masked.indexOf('/proc/acpi');
    assert.deepEqual(masked.slice(dir - 1, dir + 3), ['--tmpfs', '/proc/acpi', '--remount-ro', '/proc/acpi']);
    assert.ok(PROC_MASKS.files.includes('/proc/sys/kernel/random/boot_id'));
  });

  it('clears the environment and runs the agent as PID 1', () => {
    assert.ok(args.includes('--clearenv'));
    assert.ok(args.includes('--as-pid-1'));
    // Files and stages run as uid 1000, never as the agent's uid.
    assert.deepEqual(args.slice(-4), ['--', '/.runner/runner-agent', '--program-id', '1000']);
  });

  it('launches as the unprivileged host uid after joining the cgroups', () => {
    assert.deepEqual(launchArgs({ cgroupProcsFiles: ['/cg/a/cgroup.procs', '/cg/b/cgroup.procs'], hostUid: 65534, hostGid: 65534 }), [
      '--cgroup-procs', '/cg/a/cgroup.procs', '--cgroup-procs', '/cg/b/cgroup.procs', '--uid', '65534', '--gid', '65534', '--',
    ]);
  });

  it('gives the program a host uid of its own when there is one', () => {
    assert.deepEqual(launchArgs({ cgroupProcsFiles: [], hostUid: 70_000, hostGid: 70_000, programUid: 70_001 }), ['--uid', '70000', '--gid', '70000', '--program-id', '70001', '--']);
  });
});
