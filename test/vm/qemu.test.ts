import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { release as hostRelease } from 'node:os';
import { readFileSync, readdirSync } from 'node:fs';
import { dataPaths } from '../../src/config/paths.js';
import type { Engine } from '../../src/engine/engine.js';
import { openEngine } from '../../src/compose/open-engine.js';
import { readKernelManifest } from '../../src/images/vm/kernel.js';
import { vmPaths } from '../../src/images/vm/paths.js';
import { hostCapabilities } from '../../src/sandbox/availability.js';
import { NOTHING_LEFT, leftovers } from '../helpers/host.js';

/**
 * The QEMU microVM backend end to end: real VMs (emulated with TCG where the host has no KVM,
 * which makes each boot take seconds, so the cases are few). Needs `infra.operator setup --vm
 * --lang python,c`; skipped without it, except under CI, where .ci/run prepares it.
 */
const paths = dataPaths();
const qemu = hostCapabilities(paths).backends.qemu;
const skip = qemu.usable || process.env.CI === 'true' ? false : `the qemu backend is not usable here: ${qemu.reason}`;

/** QEMU processes of this test run, found on the host's process table (not from program output). */
function qemuProcesses(): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmdline.startsWith('qemu-system') || cmdline.includes('/qemu-system')) found.push(`${pid} ${cmdline.split('\0').slice(0, 3).join(' ')}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

describe('QEMU microVM backend', { skip }, () => {
  let engine: Engine;
  before(async () => {
    engine = await openEngine({ backend: 'qemu' });
  });
  after(async () => {
    await engine?.close();
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(leftovers(), NOTHING_LEFT, 'VMs left cgroups or processes behind');
    assert.deepEqual(qemuProcesses(), [], 'no QEMU process outlives its execution');
    assert.deepEqual(readdirSync(vmPaths(paths).runDir), [], 'no VM socket directory is left');
  });

  it('runs Python in a guest kernel of its own, with stdin', async () => {
    const result = await engine.execute({
      language: 'python',
      code: 'import platform, sys\nname = sys.stdin.readline().strip()\nprint(f"Hello, {name}!")\nprint(platform.release())\n',
      stdin: 'VM\n',
    });
    assert.equal(result.status, 'success', JSON.stringify(result.error));
    const [greeting, release] = result.stdout.split('\n');
    assert.equal(greeting, 'Hello, VM!');
    assert.equal(release, readKernelManifest(vmPaths(paths))!.release, 'the guest runs the prepared kernel, not the host\'s');
    assert.notEqual(release, hostRelease());
    assert.equal(result.exit_code, 0);
  });

  it('gives the guest program no network device, no root and no way to the agent\'s port', async () => {
    const code = [
      'import glob, os',
      'print(os.getuid(), os.geteuid())',
      'print(sorted(line.split(":")[0].strip() for line in open("/proc/net/dev").readlines()[2:]))',
      'for port in sorted(glob.glob("/dev/vport*")):',
      '    try:',
      '        open(port, "r+b")',
      '        print(port, "opened")',
      '    except OSError as e:',
      '        print(port, e.strerror)',
      '',
    ].join('\n');
    const result = await engine.execute({ language: 'python', code });
    assert.equal(result.status, 'success', JSON.stringify(result.error));
    const [ids, nets, ...ports] = result.stdout.trim().split('\n');
    assert.equal(ids, '1000 1000', 'the guest program runs as the unprivileged sandbox user');
    assert.equal(nets, "['lo']", 'no network device in the guest');
    assert.ok(ports.length >= 1, 'the agent\'s virtio-serial port exists');
    for (const port of ports) assert.match(port, /Permission denied$/, 'only the agent holds the port, opened as root before the drop');
  });

  it('keeps the guest program away from the agent (PID 1): memory, descriptors, limits, signals', async () => {
    const code = [
      'import os, resource, signal, time',
      'def attempt(name, fn):',
      '    try:',
      '        fn()',
      '        print(name, "OK")',
      '    except OSError as e:',
      '        print(name, e.errno)',
      'attempt("mem", lambda: open("/proc/1/mem", "r+b"))',
      'attempt("environ", lambda: open("/proc/1/environ", "rb").read())',
      'attempt("maps", lambda: open("/proc/1/maps", "rb").read())',
      'attempt("fd", lambda: os.listdir("/proc/1/fd"))',
      'attempt("prlimit", lambda: resource.prlimit(1, resource.RLIMIT_NOFILE, (1, 1)))',
      'for sig in (signal.SIGTERM, signal.SIGSTOP, signal.SIGKILL, signal.SIGUSR1):',
      '    attempt("kill-" + sig.name, lambda: os.kill(1, sig))',
      'attempt("affinity", lambda: os.sched_setaffinity(1, {0}))',
      'attempt("nice", lambda: os.setpriority(os.PRIO_PROCESS, 1, 19))',
      'status = dict(line.split(":", 1) for line in open("/proc/1/status"))',
      'print("agent", status["Uid"].split()[0], status["CapEff"].strip(), os.getuid())',
      'print(flush=True)',
      'time.sleep(300)',
      '',
    ].join('\n');
    const result = await engine.execute({ language: 'python', code, limits: { timeoutMs: 4000 } });
    assert.equal(result.status, 'success', JSON.stringify(result.error));
    const lines = result.stdout.trim().split('\n');
    const agent = lines.pop();
    // The agent is uid 0 with only CAP_SETUID, CAP_SETGID, CAP_KILL and CAP_CHOWN; the program uid 1000.
    assert.equal(agent, 'agent 0 00000000000000e1 1000');
    assert.equal(lines.length, 11, result.stdout);
    for (const line of lines) assert.doesNotMatch(line, / OK$/, `${line}: the program reached the agent`);
    assert.equal(result.timed_out, true, 'the timeout is still reported');
  });

  it('compiles and runs C in the VM, keeping the exit code', async () => {
    const code = '#include <stdio.h>\nint main(void) {\n  int s = 0;\n  for (int i = 1; i <= 100; i++) s += i;\n  printf("%d\\n", s);\n  return 3;\n}\n';
    const result = await engine.execute({ language: 'c', code });
    assert.equal(result.status, 'success', JSON.stringify(result.error));
    assert.equal(result.compile?.exit_code, 0, result.compile?.stderr);
    assert.equal(result.stdout, '5050\n');
    assert.equal(result.exit_code, 3);
  });

  it('kills the whole process tree in the guest on a timeout', async () => {
    const code = 'sleep 300 &\n(setsid sleep 300 &)\necho started\nsleep 300\n';
    const started = Date.now();
    const result = await engine.execute({ language: 'bash', code, limits: { timeoutMs: 1000 } });
    assert.equal(result.status, 'success', JSON.stringify(result.error));
    assert.equal(result.timed_out, true);
    assert.equal(result.stdout, 'started\n');
    assert.ok(Date.now() - started < 30_000, 'the execution ended soon after its timeout');
  });

  it('contains a memory bomb inside the guest: the program is killed, the VM answers', async () => {
    const result = await engine.execute({ language: 'python', code: 'b = []\nwhile True:\n    b.append(bytearray(16 * 1024 * 1024))\n', limits: { memoryMb: 64 } });
    assert.equal(result.status, 'success', JSON.stringify(result.error));
    assert.equal(result.signal, 'SIGKILL', result.stderr);
    assert.equal(result.oom_killed, true, 'the guest kernel counted the OOM kill');
  });

  it('keeps booted VMs in the engine\'s warm pool, one execution each', async () => {
    const pooled = await openEngine({
      backend: 'qemu',
      pool: { defaultSize: 1, warm: ['python'], maxIdle: 2, idleTtlMs: 600_000, shrinkAfterMs: 600_000 },
    });
    try {
      const idle = (): number => pooled.pool!.stats().images.find((p) => p.image === 'python')?.idle ?? 0;
      for (const deadline = Date.now() + 60_000; idle() < 1; ) {
        assert.ok(Date.now() < deadline, 'the pool booted a VM');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const result = await pooled.execute({ language: 'python', code: 'print("warm")\n' });
      assert.equal(result.stdout, 'warm\n', JSON.stringify(result.error));
      const stats = pooled.pool!.stats().images.find((p) => p.image === 'python')!;
      assert.equal(stats.hits, 1, 'the execution took the booted VM');
    } finally {
      await pooled.close();
    }
  });
});
