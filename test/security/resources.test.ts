import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { statfsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { get } from '../helpers/server.js';
import { securityServer, type ExecuteReply } from '../helpers/hostile.js';
import { cgroupNumber, settled, userProcesses, waitForProcess, type SandboxProcess } from '../helpers/sandbox-procs.js';

/**
 * Resource exhaustion: fork bombs, memory bombs, CPU spins, programs that outlive their timeout
 * (orphans, daemons, stopped processes), disk fills and descriptor floods, in several languages.
 * Verdicts from the host: the process table and the sandbox's cgroup sampled while the attack
 * runs, host disk space, the API's latency meanwhile, and nothing of the program left afterwards.
 */

const MiB = 1024 * 1024;

interface Observed {
  result: ExecuteReply;
  /** Most user processes seen at once in one sandbox. */
  maxProcesses: number;
  /** Highest memory peak the sandbox cgroup reported. */
  maxMemory: number;
  /** Slowest /health reply while the attack ran. */
  maxHealthMs: number;
  processes: SandboxProcess[];
  /** Every process state seen in any sample (a dying process's last sample may differ). */
  states: Set<string>;
  elapsedMs: number;
}

/** Runs an attack while sampling the host every 25 ms and probing the API's health every 100 ms. */
async function observe(server: Awaited<ReturnType<typeof securityServer>>, body: Record<string, unknown>): Promise<Observed> {
  let maxProcesses = 0;
  let maxMemory = 0;
  let maxHealthMs = 0;
  const seen = new Map<number, SandboxProcess>();
  const states = new Set<string>();
  let running = true;
  const sampler = (async () => {
    while (running) {
      const procs = userProcesses();
      const perSandbox = new Map<string, number>();
      for (const p of procs) {
        seen.set(p.pid, p);
        states.add(p.state);
        perSandbox.set(p.sandbox, (perSandbox.get(p.sandbox) ?? 0) + 1);
        maxMemory = Math.max(maxMemory, cgroupNumber(p.sandbox, 'memory/memory.max_usage_in_bytes', 'memory.peak') ?? 0);
      }
      maxProcesses = Math.max(maxProcesses, ...perSandbox.values(), 0);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  })();
  const prober = (async () => {
    while (running) {
      const started = performance.now();
      assert.equal((await get(server.base, '/health')).status, 200);
      maxHealthMs = Math.max(maxHealthMs, performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  const started = performance.now();
  const result = await server.attack(body);
  const elapsedMs = performance.now() - started;
  running = false;
  await Promise.all([sampler, prober]);
  assert.deepEqual(await settled(), [], 'processes of the program outlived it');
  return { result, maxProcesses, maxMemory, maxHealthMs, processes: [...seen.values()], states, elapsedMs };
}

describe('resource exhaustion', async () => {
  const server = await securityServer();

  describe('fork bombs', () => {
    const bombs: [string, string][] = [
      ['bash', 'bomb() { bomb | bomb & }; bomb; sleep 5'],
      ['python', 'import os, time\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        time.sleep(0.01)\n'],
      ['c', '#include <unistd.h>\n#include <pthread.h>\nstatic void *spin(void *a) { for (;;) pause(); return a; }\nint main(void) { for (;;) { pthread_t t; pthread_create(&t, 0, spin, 0); fork(); } }\n'],
    ];
    for (const [language, code] of bombs) {
      it(`${language}: held at the pids limit, the API stays responsive, nothing survives`, async () => {
        const seen = await observe(server, { language, code, pids: 32, timeout: 1500 });
        assert.ok(seen.maxProcesses >= 8, `the bomb ran (${seen.maxProcesses} processes seen)`);
        assert.ok(seen.maxProcesses <= 32, `${seen.maxProcesses} processes in one sandbox under pids=32`);
        assert.ok(seen.maxHealthMs < 1000, `/health took ${seen.maxHealthMs} ms during the bomb`);
        assert.ok(seen.elapsedMs < 1500 + 3000, `answered after ${seen.elapsedMs} ms`);
      });
    }
  });

  describe('memory bombs', () => {
    const bombs: [string, string][] = [
      // The heap bombs pause 20 ms per 4 MiB so that the host's 25 ms samples see them grow.
      ['python', 'import time\nx = []\nwhile True: x.append(bytearray(4 * 1024 * 1024)); time.sleep(0.02)\n'],
      ['c', '#include <stdlib.h>\n#include <string.h>\n#include <unistd.h>\nint main(void) { for (;;) { char *p = malloc(4 << 20); if (p) memset(p, 1, 4 << 20); usleep(20000); } }\n'],
      ['javascript', 'const keep = [];\nconst grow = () => { keep.push(Buffer.alloc(4 * 1024 * 1024, 1)); setTimeout(grow, 20); };\ngrow();\n'],
      ['bash', 'x=xxxxxxxxxxxxxxxx; while true; do x="$x$x"; done'],
      // tmpfs pages are charged to the sandbox's memory: filling every tmpfs must not exceed the limit either.
      ['bash', 'for d in /tmp /dev/shm /work; do head -c 64M /dev/zero > $d/fill; done; x=xxxxxxxx; while true; do x="$x$x"; done'],
    ];
    for (const [language, code] of bombs) {
      it(`${language}: ${code.includes('/dev/shm') ? 'tmpfs + heap' : 'heap'} stays under the 64 MiB cgroup limit and is reported`, async () => {
        const seen = await observe(server, { language, code, memory: 64, timeout: 5000 });
        assert.ok(seen.maxMemory > 16 * MiB, `the host saw the bomb allocate (${seen.maxMemory} bytes)`);
        assert.ok(seen.maxMemory <= 64 * MiB, `cgroup peak ${seen.maxMemory} bytes over a 64 MiB limit`);
        assert.equal(seen.result.oom_killed, true, JSON.stringify(seen.result).slice(0, 300));
        assert.equal(seen.result.timed_out, false);
      });
    }
  });

  describe('CPU spins', () => {
    const spins: [string, string][] = [
      ['c', '#include <pthread.h>\nstatic void *spin(void *a) { for (;;) ; return a; }\nint main(void) { pthread_t t[4]; for (int i = 0; i < 4; i++) pthread_create(&t[i], 0, spin, 0); for (;;) ; }\n'],
      ['python', 'import os\nfor _ in range(3):\n    if os.fork() == 0: break\nwhile True: pass\n'],
    ];
    for (const [language, code] of spins) {
      it(`${language}: 4 spinning workers get one CPU (host: CPU ticks and the cgroup's throttling)`, async () => {
        const pending = server.attack({ language, code, timeout: 2500 });
        const first = await waitForProcess((p) => !['bwrap', 'runner-launch', 'runner-agent'].includes(p.comm) && p.state === 'R');
        await new Promise((resolve) => setTimeout(resolve, 300));
        const ticks = (): number => userProcesses().filter((p) => p.sandbox === first.sandbox).reduce((sum, p) => sum + p.cpuTicks, 0);
        const t0 = ticks();
        const w0 = performance.now();
        await new Promise((resolve) => setTimeout(resolve, 1000));
        const cores = (ticks() - t0) / 100 / ((performance.now() - w0) / 1000);
        const throttled = cgroupNumber(first.sandbox, 'cpu/cpu.stat', 'cpu.stat', 'nr_throttled') ?? 0;
        const result = await pending;
        assert.equal(result.timed_out, true);
        assert.ok(cores > 0.5, `the spin ran (${cores.toFixed(2)} cores)`);
        assert.ok(cores < 1.25, `${cores.toFixed(2)} cores used under a 1-CPU quota`);
        assert.ok(throttled > 0, 'the cgroup never throttled');
        assert.deepEqual(await settled(), []);
      });
    }
  });

  describe('outliving the timeout', () => {
    const tricks: [string, string][] = [
      ['bash', '(setsid sleep 100 &); nohup sleep 100 >/dev/null 2>&1 & ( ( trap "" TERM HUP INT; sleep 100 ) & ); (sleep 100; echo late) & sleep 0.1; kill -STOP $$'],
      ['python', [
        'import os, signal, time',
        'if os.fork() == 0:',
        '    os.setsid()',
        '    if os.fork() == 0:',
        '        for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT): signal.signal(s, signal.SIG_IGN)',
        '        while True: time.sleep(1)',
        '    os._exit(0)',
        'if os.fork() == 0:',
        '    os.kill(os.getpid(), signal.SIGSTOP)',
        'time.sleep(100)',
      ].join('\n')],
      ['c', '#include <signal.h>\n#include <unistd.h>\nint main(void) { if (fork() == 0) { setsid(); if (fork() == 0) { signal(SIGTERM, SIG_IGN); for (;;) pause(); } _exit(0); } if (fork() == 0) raise(SIGSTOP); for (;;) pause(); }\n'],
    ];
    for (const [language, code] of tricks) {
      it(`${language}: daemons, double forks, ignored signals and stopped processes die at the timeout`, async () => {
        const seen = await observe(server, { language, code, timeout: 1000 });
        assert.equal(seen.result.timed_out, true);
        assert.ok(seen.processes.length >= 3, `the program started its helpers (${seen.processes.length} seen)`);
        assert.ok(seen.states.has('T'), 'a stopped process was seen');
        assert.ok(seen.elapsedMs < 1000 + 2500, `answered after ${seen.elapsedMs} ms`);
      });
    }
  });

  describe('disk and descriptors', () => {
    it('bash: filling /tmp, /dev/shm and /work stops at each tmpfs cap; host disks are untouched', async () => {
      const free = (): number[] => ['/', '/tmp', '/dev/shm'].map((p) => statfsSync(p).bavail * statfsSync(p).bsize);
      const before = free();
      const seen = await observe(server, {
        language: 'bash',
        code: 'for d in /tmp /dev/shm /work; do for i in 1 2 3; do head -c 40M /dev/zero > $d/f$i 2>/dev/null; done; du -sm $d | cut -f1; done',
        memory: 512,
      });
      const sizes = seen.result.stdout.trim().split('\n').map(Number);
      assert.equal(sizes.length, 3, seen.result.stderr);
      for (const mb of sizes) assert.ok(mb >= 60 && mb <= 64, `a tmpfs held ${mb} MiB (cap 64)`);
      assert.ok(seen.maxMemory >= 150 * MiB, 'the tmpfs pages were charged to the sandbox');
      free().forEach((bytes, i) => assert.ok(Math.abs(bytes - before[i]!) < 100 * MiB, `host free space moved by ${before[i]! - bytes} bytes`));
    });

    it('python: one file stops at 64 MiB (file-size limit and tmpfs cap), a flood of small files within the memory limit', async () => {
      const seen = await observe(server, {
        language: 'python',
        code: [
          'import os, signal',
          'signal.signal(signal.SIGXFSZ, signal.SIG_IGN)',
          'f = open("/work/big", "wb")',
          'try:',
          '    for _ in range(100): f.write(b"x" * (1 << 20)); f.flush()',
          'except OSError as e: print("big", e.errno, os.path.getsize("/work/big"))',
          'n = 0',
          'try:',
          '    while n < 1000000: open("/tmp/%d" % n, "w").close(); n += 1',
          'except OSError as e: print("files", n, e.errno)',
        ].join('\n'),
        timeout: 8000,
      });
      const big = /^big (\d+) (\d+)$/m.exec(seen.result.stdout);
      assert.ok(big, seen.result.stdout + seen.result.stderr);
      assert.ok(['27', '28'].includes(big[1]!), `EFBIG or ENOSPC, not errno ${big[1]}`);
      assert.ok(Number(big[2]) <= 64 * MiB);
      assert.ok(seen.maxMemory <= 256 * MiB);
    });

    it('c: opening descriptors stops at the nofile limit (host: the descriptor table)', async () => {
      const pending = server.attack({
        language: 'c',
        code: '#include <fcntl.h>\n#include <stdio.h>\n#include <sys/prctl.h>\n#include <unistd.h>\nint main(void) { int n = 0; while (open("/dev/null", O_RDONLY) >= 0) n++; printf("%d\\n", n); fflush(stdout); prctl(PR_SET_NAME, "rc-ready"); sleep(1); return 0; }\n',
        timeout: 5000,
      });
      const ready = await waitForProcess((p) => p.comm === 'rc-ready', 15_000);
      assert.ok(ready.fds.length <= 256, `${ready.fds.length} open descriptors`);
      assert.ok(ready.fds.length >= 250, `the program opened descriptors (${ready.fds.length})`);
      const result = await pending;
      assert.ok(Number(result.stdout) <= 253);
    });
  });
});
