import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { openEngine } from '../../src/compose/open-engine.js';
import type { Engine } from '../../src/engine/engine.js';
import type { ExecuteRequest } from '../../src/engine/request.js';
import type { ExecutionResult } from '../../src/engine/result.js';
import { getLanguage } from '../../src/languages/lookup.js';
import { cgroupMemory, memoryCgroupOf, pssBytes } from '../../src/bench/host-probe.js';
import { NOTHING_LEFT, leftovers } from '../helpers/host.js';
import { sandboxProcesses } from '../helpers/sandbox-procs.js';
import { JAVASCRIPT_CASES, PHP_CASES, PYTHON_CASES, RUBY_CASES, type PrestartCase } from './prestart-cases.js';

// Pre-started interpreters (docs/prestart.md): every program gives the same stdout, stderr, exit
// code and signal in a pre-started interpreter as in a fresh one, and really ran in one.

const MIB = 1024 * 1024;
let fresh: Engine;
let prestarted: Engine;

before(async () => {
  fresh = await openEngine({ backend: 'bwrap' });
  prestarted = await openEngine({ backend: 'bwrap', pool: { defaultSize: 1, warm: ['python', 'node', 'ruby', 'php'], maxIdle: 8, idleTtlMs: 300_000, shrinkAfterMs: 300_000 } });
});

after(async () => {
  await fresh.close();
  await prestarted.close();
  await sleep(200);
  assert.deepEqual(leftovers(), NOTHING_LEFT, 'sandboxes left cgroups or processes behind');
});

/** Waits until the pool holds a ready sandbox (its interpreter pre-started) for `language`. */
async function untilPooled(language: string): Promise<void> {
  const image = getLanguage(language).image;
  const idle = (): number => prestarted.pool!.stats().images.find((i) => i.image === image)?.idle ?? 0;
  for (let i = 0; i < 600 && idle() < 1; i++) await sleep(20);
  assert.ok(idle() >= 1, `a pooled ${image} sandbox is ready`);
}

async function execute(engine: Engine, request: ExecuteRequest): Promise<ExecutionResult> {
  const result = await engine.execute(request);
  assert.equal(result.status, 'success', `infrastructure failure: ${JSON.stringify(result.error)}`);
  return result;
}

const outcome = (r: ExecutionResult) => ({ stdout: r.stdout, stderr: r.stderr, exit_code: r.exit_code, signal: r.signal, timed_out: r.timed_out });

async function conforms(c: PrestartCase): Promise<void> {
  const cold = await execute(fresh, c.request);
  await untilPooled(c.request.language);
  const runs = prestarted.prestartedRuns;
  const warm = await execute(prestarted, c.request);
  assert.equal(prestarted.prestartedRuns - runs, c.cold ? 0 : 1, c.cold ? 'started cold' : 'ran in the pre-started interpreter');
  assert.deepEqual(outcome(warm), outcome(cold));
}

describe('a pre-started python behaves as a fresh one', () => {
  for (const c of PYTHON_CASES) it(c.title, () => conforms(c));
});

describe('a pre-started node behaves as a fresh one', () => {
  for (const c of JAVASCRIPT_CASES) it(c.title, () => conforms(c));
});

describe('a pre-started ruby behaves as a fresh one', () => {
  for (const c of RUBY_CASES) it(c.title, () => conforms(c));
});

describe('a pre-started php behaves as a fresh one', () => {
  for (const c of PHP_CASES) it(c.title, () => conforms(c));
});

describe('pre-started interpreters: one execution each', () => {
  it('nothing of one run reaches the next: files, processes, globals, the boot file', async () => {
    const programs: Record<string, string> = {
      python:
        'import os, subprocess, glob\n' +
        'seen = sorted(glob.glob("/tmp/mark-*") + glob.glob("/work/mark-*") + glob.glob("/dev/shm/mark-*"))\n' +
        'import builtins\nprint("leaked global:", str(hasattr(builtins, "LEAK")).lower())\nbuiltins.LEAK = 1\n' +
        'tag = os.environ.get("RUN", "") or str(os.getpid())\n' +
        'for d in ("/tmp", "/work", "/dev/shm"):\n    open(f"{d}/mark-{os.urandom(4).hex()}", "w").close()\n' +
        'print("marks seen:", len(seen), "processes:", len([p for p in os.listdir("/proc") if p.isdigit()]))\n' +
        'subprocess.Popen(["sleep", "100"], start_new_session=True)\n',
      javascript:
        "const fs = require('fs');\n" +
        "const seen = ['/tmp', '/work', '/dev/shm'].flatMap((d) => fs.readdirSync(d).filter((n) => n.startsWith('mark-')));\n" +
        "console.log('leaked global:', 'LEAK' in globalThis);\nglobalThis.LEAK = 1;\n" +
        "for (const d of ['/tmp', '/work', '/dev/shm']) fs.writeFileSync(`${d}/mark-${Math.random()}`, '');\n" +
        "let boot = 'unlisted';\ntry { fs.readdirSync('/tmp/.runner-prestart'); boot = 'listed'; } catch (e) { boot = e.code; }\n" +
        "try { fs.writeFileSync('/tmp/.runner-prestart/boot.cjs', 'x'); boot += ' written'; } catch (e) { boot += ' ' + e.code; }\n" +
        "try { fs.unlinkSync('/tmp/.runner-prestart/boot.cjs'); boot += ' removed'; } catch (e) { boot += ' ' + e.code; }\n" +
        "console.log('marks seen:', seen.length, 'processes:', fs.readdirSync('/proc').filter((p) => /^\\d+$/.test(p)).length, 'boot:', boot);\n" +
        "require('child_process').spawn('sleep', ['100'], { detached: true, stdio: 'ignore' }).unref();\n",
      ruby:
        'seen = Dir.glob(["/tmp/mark-*", "/work/mark-*", "/dev/shm/mark-*"])\n' +
        'puts "leaked global: #{defined?($leak) ? true : false}"\n$leak = 1\n' +
        '%w[/tmp /work /dev/shm].each { |d| File.write("#{d}/mark-#{rand(1 << 32)}", "") }\n' +
        'puts "marks seen: #{seen.size} processes: #{Dir.children("/proc").grep(/\\A\\d+\\z/).size}"\n' +
        'Process.detach(spawn("sleep", "100", pgroup: true))\n',
      php:
        '<?php\n$seen = array_merge(glob("/tmp/mark-*"), glob("/work/mark-*"), glob("/dev/shm/mark-*"));\n' +
        'echo "leaked global: ", getenv("LEAK") !== false || isset($GLOBALS["leak"]) || function_exists("leak") ? "true" : "false", "\\n";\n' +
        'if (true) { function leak() {} }\n$leak = 1;\nputenv("LEAK=1");\n' +
        'foreach (["/tmp", "/work", "/dev/shm"] as $d) touch("$d/mark-" . bin2hex(random_bytes(4)));\n' +
        'echo "marks seen: ", count($seen), " processes: ", count(preg_grep("/^\\\\d+$/", scandir("/proc"))), "\\n";\n' +
        'proc_close(proc_open("sleep 100 >/dev/null 2>&1 &", [], $pipes));\n',
    };
    for (const [language, code] of Object.entries(programs)) {
      for (let i = 0; i < 4; i++) {
        await untilPooled(language);
        const runs = prestarted.prestartedRuns;
        const result = await execute(prestarted, { language, code });
        assert.equal(prestarted.prestartedRuns - runs, 1, `${language} run ${i} was pre-started`);
        assert.equal(result.exit_code, 0, result.stderr);
        const [leak, marks] = result.stdout.split('\n');
        assert.equal(leak, 'leaked global: false');
        // The agent and the interpreter, nothing else: no earlier run's sleep, no earlier interpreter.
        assert.match(marks!, /^marks seen: 0 processes: 2(?: boot: EACCES EACCES EACCES)?$/, `${language} run ${i}: ${result.stdout}`);
      }
    }
  });

  it('python\'s start-up objects wait in the collector\'s permanent generation (a short finalisation), the program\'s do not', async () => {
    const code = 'import gc, sys\nclass Mine:\n    pass\nmine = Mine()\nprint(gc.get_freeze_count() > 1000, any(o is mine.__dict__ or o is mine for o in gc.get_objects()), "gc" in sys.modules)\n';
    await untilPooled('python');
    const runs = prestarted.prestartedRuns;
    const warm = await execute(prestarted, { language: 'python', code });
    assert.equal(prestarted.prestartedRuns - runs, 1);
    assert.equal(warm.stdout, 'True True True\n', warm.stderr);
    // A fresh interpreter freezes nothing.
    assert.equal((await execute(fresh, { language: 'python', code })).stdout, 'False True True\n');
  });

  it('the run\'s clock starts at the hand-over: the interpreter\'s start-up is neither wall nor CPU time', async () => {
    const spin = 'import time\nt = time.process_time()\nwhile time.process_time() - t < 0.3:\n    pass\n';
    await untilPooled('python');
    const runs = prestarted.prestartedRuns;
    // The default timeout (10 s): room for 300 ms of CPU on a loaded machine.
    const warm = await execute(prestarted, { language: 'python', code: spin });
    assert.equal(prestarted.prestartedRuns - runs, 1);
    const cold = await execute(fresh, { language: 'python', code: spin });
    assert.equal(warm.timed_out || cold.timed_out, false);
    // Both spin 300 ms of CPU; the cold one also pays the interpreter's start-up.
    assert.ok(warm.cpu_time_ms >= 290 && warm.cpu_time_ms < cold.cpu_time_ms, `cpu warm ${warm.cpu_time_ms} cold ${cold.cpu_time_ms}`);
    // A timeout counts from the hand-over, and kills as in a fresh interpreter.
    await untilPooled('python');
    const late = await execute(prestarted, { language: 'python', code: 'import time\nprint("start", flush=True)\ntime.sleep(5)\n', limits: { timeoutMs: 700 } });
    assert.deepEqual({ timed_out: late.timed_out, stdout: late.stdout, signal: late.signal }, { timed_out: true, stdout: 'start\n', signal: 'SIGKILL' });
    assert.ok(late.timings.exec_ms >= 690 && late.timings.exec_ms < 3000, `exec ${late.timings.exec_ms}`);
  });

  // Python within 12 MiB PSS. Node is ~8.5 MiB of its own (V8's heap) plus ~31 MiB of its binary's
  // pages it maps (15 touched, the rest the kernel's fault-around), shared by every node process on
  // the host: PSS divides that by their number,
  // so its sandbox is held to 12 MiB of its own pages (docs/prestart.md has the figures). Ruby and
  // PHP too: 8.5 MiB of Ruby's own (the live objects of RubyGems) and 3.8 MiB of libruby; 4.5 MiB of
  // PHP's own and ~11 MiB of the php binary and its extensions, shared the same way.
  it('an idle pooled sandbox with a pre-started interpreter: PSS within 12 MiB (node, ruby, php: their own pages), and the pool charges it', async (t) => {
    for (const language of ['python', 'javascript', 'ruby', 'php']) {
      await untilPooled(language);
      const image = getLanguage(language).image;
      // (Node names its main thread: comm `node-MainThread`.)
      const interpreter = { python: 'python3', javascript: 'node-MainThread', ruby: 'ruby', php: 'php' }[language]!;
      // Every process of one idle sandbox of this image: bwrap, the agent and its waiting interpreter.
      const procs = sandboxProcesses();
      const waiting = procs.find((p) => p.comm === interpreter && p.uids[0] !== 0 && procs.some((q) => q.sandbox === p.sandbox && q.comm === 'runner-agent'));
      assert.ok(waiting, `a waiting ${interpreter} in a pooled sandbox`);
      const members = procs.filter((p) => p.sandbox === waiting.sandbox);
      assert.deepEqual(members.map((p) => p.comm).sort(), ['bwrap', interpreter, 'runner-agent'].sort());
      const rollup = (pid: number, field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0) * 1024;
      const pss = members.reduce((sum, p) => sum + pssBytes(p.pid), 0);
      const own = members.reduce((sum, p) => sum + rollup(p.pid, 'Pss_Anon'), 0);
      const held = language === 'python' ? pss : own;
      t.diagnostic(`${image}: idle sandbox PSS ${(pss / MIB).toFixed(2)} MiB (anonymous ${(own / MIB).toFixed(2)} MiB)`);
      assert.ok(held <= 12 * MIB, `${image}: idle PSS ${(pss / MIB).toFixed(1)} MiB, its own ${(own / MIB).toFixed(1)} MiB`);
      // The memory the budget charges this idle sandbox (its cgroup's) holds every page only its
      // processes have (their anonymous memory: the interpreter's heap), and the pool counts it.
      const anon = members.reduce((sum, p) => sum + rollup(p.pid, 'Anonymous'), 0);
      const charged = cgroupMemory(memoryCgroupOf(waiting.pid)!).chargedBytes;
      const stats = prestarted.pool!.stats();
      assert.ok(anon > 1 * MIB && charged >= anon && stats.idle_memory_bytes >= charged, `charged ${charged} (pool: ${stats.idle_memory_bytes} for ${stats.idle_total} idle), anonymous ${anon}`);
    }
  });
});
