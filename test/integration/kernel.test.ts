import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pssBytes } from '../../src/bench/host-probe.js';
import { dataPaths } from '../../src/config/paths.js';
import { Kernel, kernelLanguages, type KernelOptions } from '../../src/engine/kernel.js';
import { stageEnv } from '../../src/engine/job.js';
import { languageLimits } from '../../src/engine/limits.js';
import { ImageStore } from '../../src/images/store.js';
import { getLanguage } from '../../src/languages/lookup.js';
import type { AgentSession } from '../../src/sandbox/agent-session.js';
import type { Backend, Sandbox } from '../../src/sandbox/backend.js';
import { openBackend } from '../../src/sandbox/registry.js';
import { NOTHING_LEFT, isSandboxUid, leftovers } from '../helpers/host.js';
import { sandboxProcesses } from '../helpers/sandbox-procs.js';

/*
 * Interpreter kernels in real bwrap sessions (src/engine/kernel.ts, src/images/kernels/): state that
 * persists between cells, MIME outputs (a pandas DataFrame as HTML, a matplotlib figure as PNG),
 * errors, and cells that time out leaving the session usable. Fails on main: there is no Kernel, no
 * kernel program, no python-datascience image and no protocol version 2.
 */

const paths = dataPaths();
const images = new ImageStore(paths.imagesDir);

interface Opened {
  sandbox: Sandbox;
  session: AgentSession;
  kernel: Kernel;
}

async function openKernel(backend: Backend, languageId: string): Promise<Opened> {
  const language = getLanguage(languageId);
  const limits = languageLimits(language);
  const sandbox = await backend.start({ image: language.image, rootfs: images.rootfs(language.image), limits, traceId: `kernel-${languageId}` });
  const session = await sandbox.openSession();
  const options: KernelOptions = { env: stageEnv(language, { env: [] }), limits, timeoutMs: 30_000 };
  return { sandbox, session, kernel: await Kernel.start(session, languageId, options) };
}

/** Width and height from a PNG's IHDR chunk, after checking the signature. */
function pngSize(base64: string): { width: number; height: number } {
  const png = Buffer.from(base64, 'base64');
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
  assert.equal(png.subarray(12, 16).toString('latin1'), 'IHDR');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

const skipDatascience = images.manifest('python-datascience') ? false : 'image python-datascience is not built (infra.operator rootfs build --lang python-datascience)';

describe('kernels in bwrap sessions', () => {
  let backend: Backend;
  const opened: Opened[] = [];

  before(async () => {
    backend = await openBackend({ paths, backend: 'bwrap' });
  });
  after(async () => {
    for (const { kernel, sandbox } of opened) {
      await kernel.close();
      await sandbox.destroy();
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(leftovers(), NOTHING_LEFT, 'a kernel session left cgroups or processes behind');
  });

  it('lists the languages with a kernel', () => {
    assert.deepEqual([...kernelLanguages()].sort(), ['javascript', 'python', 'python-datascience']);
  });

  describe('python-datascience', { skip: skipDatascience }, () => {
    let kernel: Kernel;
    let session: AgentSession;
    let sandbox: Sandbox;
    before(async () => {
      const o = await openKernel(backend, 'python-datascience');
      opened.push(o);
      ({ kernel, session, sandbox } = o);
    });

    it('an idle session (kernel started, no library imported) is under 15 MiB PSS', () => {
      const pids = sandboxProcesses().filter((p) => p.sandbox === sandbox.id).map((p) => p.pid);
      assert.ok(pids.length >= 2, `processes: ${pids}`);
      const pss = pids.reduce((sum, pid) => sum + pssBytes(pid), 0);
      assert.ok(pss > 0 && pss < 15 * 1024 * 1024, `${(pss / 1048576).toFixed(1)} MiB`);
    });

    it('keeps variables, imports and functions between cells; the last expression is text/plain', async () => {
      const first = await kernel.run('import math\nx = 41\ndef double(v):\n    return v * 2\nprint("defined")', 10_000);
      assert.equal(first.error, null);
      assert.equal(first.stdout, 'defined\n');
      assert.deepEqual(first.outputs, []);
      const second = await kernel.run('x + 1', 10_000);
      assert.deepEqual(second.outputs, [{ 'text/plain': '42' }]);
      assert.equal(second.timed_out, false);
      assert.deepEqual((await kernel.run('double(math.floor(2.7))', 10_000)).outputs, [{ 'text/plain': '4' }]);
    });

    it('shows a pandas DataFrame as text/html and text/plain', async () => {
      const result = await kernel.run('import pandas as pd\ndf = pd.DataFrame({"a": [1, 2], "b": [3, 4]})\ndf', 60_000);
      assert.equal(result.error, null, result.error?.traceback);
      const [bundle] = result.outputs;
      assert.match(bundle!['text/html']!, /<table[^>]*class="dataframe"/);
      assert.match(bundle!['text/html']!, /<td>3<\/td>/);
      assert.match(bundle!['text/plain']!, /^ {3}a {2}b\n0 {2}1 {2}3\n1 {2}2 {2}4$/);
    });

    it('returns matplotlib figures, shown or left open, as valid PNGs and closes them', async () => {
      const shown = await kernel.run('import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nplt.show()\nfig = plt.figure(figsize=(3, 2), dpi=100)\nplt.bar(["a", "b"], [1, 2])', 60_000);
      assert.equal(shown.error, null, shown.error?.traceback);
      // plt.show()'s figure, then the one left open, then the last expression (a BarContainer).
      assert.equal(shown.outputs.length, 3, JSON.stringify(shown.outputs.map((o) => Object.keys(o))));
      assert.deepEqual(pngSize(shown.outputs[0]!['image/png']!), { width: 640, height: 480 });
      assert.deepEqual(pngSize(shown.outputs[1]!['image/png']!), { width: 300, height: 200 });
      assert.match(shown.outputs[2]!['text/plain']!, /BarContainer/);
      assert.deepEqual((await kernel.run('plt.get_fignums()', 10_000)).outputs, [{ 'text/plain': '[]' }], 'figures are closed');
    });

    it('reports an error with its name, message and a traceback of the cell only', async () => {
      const failed = await kernel.run('def divide(a):\n    return a / 0\ndivide(x)', 10_000);
      assert.deepEqual([failed.error?.name, failed.error?.message], ['ZeroDivisionError', 'division by zero']);
      assert.match(failed.error!.traceback, /File "<cell-\d+>", line 3, in <module>\n {4}divide\(x\)/);
      assert.match(failed.error!.traceback, /line 2, in divide\n {4}return a \/ 0/);
      assert.doesNotMatch(failed.error!.traceback, /<string>|run_cell/);
      assert.deepEqual((await kernel.run('x', 10_000)).outputs, [{ 'text/plain': '41' }]);
    });

    it('interrupts a busy loop and a sleep at the timeout; the kernel and its variables live on', async () => {
      const busy = await kernel.run('while True:\n    pass', 1_000);
      assert.equal(busy.timed_out, true);
      assert.equal(busy.error?.name, 'KeyboardInterrupt');
      assert.ok(busy.duration_ms >= 900 && busy.duration_ms < 1_000 + 3_000, `${busy.duration_ms} ms`);
      const sleeping = await kernel.run('import time\ntime.sleep(100)', 1_000);
      assert.equal(sleeping.timed_out, true);
      assert.equal(sleeping.error?.name, 'KeyboardInterrupt');
      const after = await kernel.run('x, df.shape', 10_000);
      assert.deepEqual(after.outputs, [{ 'text/plain': '(41, (2, 2))' }]);
      assert.equal(after.timed_out, false);
    });

    it('streams what a cell prints through the handlers as it prints, and shares the session files', async () => {
      const chunks: { text: string; at: number }[] = [];
      const started = Date.now();
      const result = await kernel.run('import time, subprocess\nprint("one", flush=True)\ntime.sleep(1)\nprint("two")\nopen("made-by-cell.txt", "w").write("cell")\nsubprocess.run(["echo", "child"])', 10_000, {
        onStdout: (text) => chunks.push({ text, at: Date.now() - started }),
      });
      assert.equal(result.error, null);
      assert.equal(result.stdout.replace('child\n', ''), 'one\ntwo\n');
      assert.ok(chunks[0]!.text === 'one\n' && chunks.at(-1)!.at - chunks[0]!.at >= 800, JSON.stringify(chunks));
      assert.equal((await session.get('made-by-cell.txt', 100)).content.toString(), 'cell');
    });

    it('runs as the program uid and cannot become anything else', async () => {
      const ids = await kernel.run('import os\nos.getresuid(), os.getresgid()', 10_000);
      assert.deepEqual(ids.outputs, [{ 'text/plain': '((1000, 1000, 1000), (1000, 1000, 1000))' }]);
      const setuid = await kernel.run('os.setuid(0)', 10_000);
      assert.equal(setuid.error?.name, 'PermissionError');
      const python = sandboxProcesses().filter((p) => p.comm.startsWith('python3'));
      assert.ok(python.length >= 1);
      for (const p of python) {
        assert.ok(p.uids.every((u) => isSandboxUid(u)) && new Set(p.uids).size === 1, `uids ${p.uids}`);
        assert.equal(BigInt(`0x${p.capEff}`), 0n, 'no capabilities');
        assert.equal(p.noNewPrivs, '1');
      }
    });

    it('a cell that ignores SIGINT is killed after the grace; the kernel is restarted and the session stays usable', async () => {
      const stuck = await kernel.run('import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\ntime.sleep(100)', 1_000);
      assert.equal(stuck.timed_out, true);
      assert.equal(stuck.error?.name, 'TimeoutError');
      assert.match(stuck.error!.message, /restarted/);
      assert.equal(kernel.alive, true);
      const fresh = await kernel.run('"x" in dir()', 10_000);
      assert.deepEqual(fresh.outputs, [{ 'text/plain': 'False' }], 'a new kernel, state lost');
      const died = await kernel.run('import os\nos._exit(3)', 10_000);
      assert.equal(died.error?.name, 'KernelDied');
      assert.deepEqual((await kernel.run('1 + 1', 10_000)).outputs, [{ 'text/plain': '2' }]);
      // A kernel that a thread of an earlier cell ends between cells: the next cell says so.
      await kernel.run('import os, threading\nthreading.Timer(0.2, lambda: os._exit(0)).start()', 10_000);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const next = await kernel.run('2 + 2', 10_000);
      assert.deepEqual(next.outputs, [{ 'text/plain': '4' }]);
      assert.match(next.stderr, /state is lost/);
      assert.equal(sandboxProcesses().filter((p) => p.comm.startsWith('python3')).length, 1, 'the old kernels are gone');
    });
  });

  describe('javascript', () => {
    let kernel: Kernel;
    before(async () => {
      const o = await openKernel(backend, 'javascript');
      opened.push(o);
      kernel = o.kernel;
    });

    it('keeps globals and require between cells; the last expression via util.inspect; top-level await', async () => {
      assert.equal((await kernel.run('const os = require("node:os"); var n = 41; function inc(v) { return v + 1 }', 10_000)).error, null);
      assert.deepEqual((await kernel.run('inc(n)', 10_000)).outputs, [{ 'text/plain': '42' }]);
      assert.deepEqual((await kernel.run('({ home: os.homedir(), list: [1, "a"] })', 10_000)).outputs, [{ 'text/plain': "{ home: '/tmp', list: [ 1, 'a' ] }" }]);
      const awaited = await kernel.run('const later = await new Promise((r) => setTimeout(() => r(n * 2), 20));\nlater', 10_000);
      assert.deepEqual(awaited.outputs, [{ 'text/plain': '82' }], JSON.stringify(awaited.error));
      const printed = await kernel.run('console.log("hello"); console.error("warn")', 10_000);
      assert.deepEqual([printed.stdout, printed.stderr], ['hello\n', 'warn\n']);
    });

    it('reports errors with name, message and stack; interrupts a busy loop at the timeout', async () => {
      const failed = await kernel.run('null.x', 10_000);
      assert.equal(failed.error?.name, 'TypeError');
      assert.match(failed.error!.traceback, /<cell-\d+>:1/);
      const busy = await kernel.run('while (true) {}', 1_000);
      assert.equal(busy.timed_out, true);
      assert.match(busy.error!.message, /interrupted/i);
      assert.deepEqual((await kernel.run('n', 10_000)).outputs, [{ 'text/plain': '41' }]);
    });

    it('close() ends a running cell and the kernel; later cells are refused', async () => {
      const running = kernel.run('await new Promise(() => {})', 30_000);
      await new Promise((resolve) => setTimeout(resolve, 200));
      await kernel.close();
      const ended = await running;
      assert.equal(ended.error?.name, 'KernelClosed');
      assert.equal(kernel.alive, false);
      await assert.rejects(kernel.run('1', 1_000), /the kernel is closed/);
    });
  });
});
