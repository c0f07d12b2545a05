import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import { kernelArgv } from '../../src/engine/kernel-program.js';
import { which } from '../../src/config/which.js';

/**
 * The kernel programs as plain host processes, their control channel a socketpair on fd 3 (what
 * the agent gives them): the JSON-lines protocol of docs/kernels.md, without a sandbox.
 */
interface Reply {
  cell: number | null;
  status: string;
  error: { name: string; message: string; traceback: string } | null;
  outputs: Record<string, string>[];
  ready?: boolean;
  stdout_truncated?: boolean;
}

class KernelProcess {
  readonly child: ChildProcess;
  private readonly control: Socket;
  private pending = '';
  private readonly waiting: ((reply: Reply) => void)[] = [];
  private readonly replies: Reply[] = [];
  /** What came as stream messages on the control channel. */
  stdout = '';
  stderr = '';
  /** What the process wrote to its real fds 1 and 2. */
  fd1 = '';
  private cell = 0;

  constructor(argv: readonly string[]) {
    this.child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe', 'pipe'], cwd: '/tmp', env: { PATH: process.env.PATH, HOME: '/tmp', LANG: 'C.UTF-8' } });
    this.child.stdout!.setEncoding('utf8').on('data', (s: string) => (this.fd1 += s));
    this.child.stderr!.resume();
    this.control = this.child.stdio[3] as Socket;
    this.control.setEncoding('utf8');
    this.control.on('data', (chunk: string) => {
      this.pending += chunk;
      let newline: number;
      while ((newline = this.pending.indexOf('\n')) >= 0) {
        const message = JSON.parse(this.pending.slice(0, newline)) as Reply & { stream?: 'stdout' | 'stderr'; text?: string };
        this.pending = this.pending.slice(newline + 1);
        if (message.stream !== undefined) {
          // Only the head: enough for every assertion, and a flood stays cheap.
          if (this[message.stream].length < 1 << 16) this[message.stream] += message.text;
          continue;
        }
        const reply = message;
        const waiter = this.waiting.shift();
        if (waiter) waiter(reply);
        else this.replies.push(reply);
      }
    });
  }

  next(): Promise<Reply> {
    const reply = this.replies.shift();
    if (reply) return Promise.resolve(reply);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  async run(code: string, outputLimit?: number): Promise<Reply & { stdout: string; stderr: string }> {
    this.stdout = '';
    this.stderr = '';
    this.control.write(JSON.stringify({ cell: ++this.cell, code, output_limit: outputLimit }) + '\n');
    let timer: NodeJS.Timeout | undefined;
    const reply = await Promise.race([
      this.next(),
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`cell ${this.cell}: no reply in 15 s`)), 15_000))),
    ]).finally(() => clearTimeout(timer));
    assert.equal(reply.cell, this.cell);
    return { ...reply, stdout: this.stdout, stderr: this.stderr };
  }

  /** Runs a cell and sends SIGINT after `afterMs`, as the host does at a cell's timeout. */
  async interrupt(code: string, afterMs: number, outputLimit?: number): Promise<Reply> {
    const result = this.run(code, outputLimit);
    await new Promise((resolve) => setTimeout(resolve, afterMs));
    this.child.kill('SIGINT');
    return result;
  }

  close(): void {
    this.child.kill('SIGKILL');
  }
}

async function start(language: string, interpreter: string): Promise<KernelProcess> {
  const argv = kernelArgv(language);
  const kernel = new KernelProcess([interpreter, ...argv.slice(1)]);
  const ready = await kernel.next();
  assert.equal(ready.ready, true);
  return kernel;
}

const python = which('python3');
describe('the python kernel program', { skip: python === null ? 'no python3 on this host' : false }, () => {
  let kernel: KernelProcess;
  after(() => kernel?.close());

  it('keeps variables, imports and functions between cells and shows the last expression', async () => {
    kernel = await start('python', python!);
    assert.equal((await kernel.run('import math\nx = 41\ndef f(y):\n    return y * 2\n')).outputs.length, 0);
    const value = await kernel.run('print("hi")\nx + 1');
    assert.equal(value.status, 'ok');
    assert.deepEqual(value.outputs, [{ 'text/plain': '42' }]);
    assert.equal(value.stdout, 'hi\n');
    assert.deepEqual((await kernel.run('f(math.floor(2.5)), __name__')).outputs, [{ 'text/plain': "(4, '__main__')" }]);
    assert.deepEqual((await kernel.run('x = 5')).outputs, [], 'an assignment shows nothing');
  });

  it('streams print() in order before the reply, caps each cell, and leaves subprocess output on fd 1', async () => {
    const printed = await kernel.run('import sys\nprint("out")\nprint("err", file=sys.stderr)\nsys.stdout.buffer.write(b"bytes\\n")\n');
    assert.deepEqual([printed.stdout, printed.stderr, printed.stdout_truncated], ['out\nbytes\n', 'err\n', false]);
    const flood = await kernel.run('print("y" * 5000)', 1000);
    assert.equal(flood.stdout, 'y'.repeat(1000));
    assert.equal(flood.stdout_truncated, true);
    assert.equal((await kernel.run('print(1)')).stdout_truncated, false, 'the cap is per cell');
    await kernel.run('import subprocess\nsubprocess.run(["echo", "from a child"])');
    assert.match(kernel.fd1, /from a child\n/);
  });

  it('uses the display protocol: _repr_html_, _repr_svg_, _repr_json_ and display()', async () => {
    await kernel.run('class T:\n    def _repr_html_(self): return "<b>t</b>"\n    def _repr_svg_(self): return "<svg/>"\n    def _repr_json_(self): return {"a": 1}\n    def __repr__(self): return "T()"\n');
    const shown = await kernel.run('display(1, T())\nT()');
    assert.deepEqual(shown.outputs, [
      { 'text/plain': '1' },
      { 'text/plain': 'T()', 'text/html': '<b>t</b>', 'image/svg+xml': '<svg/>', 'application/json': '{"a": 1}' },
      { 'text/plain': 'T()', 'text/html': '<b>t</b>', 'image/svg+xml': '<svg/>', 'application/json': '{"a": 1}' },
    ]);
  });

  it('reports an error with its name, message and a traceback without the kernel frames', async () => {
    const failed = await kernel.run('def g():\n    return 1 / 0\ng()');
    assert.equal(failed.status, 'error');
    assert.equal(failed.error!.name, 'ZeroDivisionError');
    assert.equal(failed.error!.message, 'division by zero');
    assert.match(failed.error!.traceback, /^Traceback \(most recent call last\):\n {2}File "<cell-\d+>", line 3, in <module>\n {4}g\(\)\n/);
    assert.match(failed.error!.traceback, /return 1 \/ 0/);
    assert.doesNotMatch(failed.error!.traceback, /run_cell|evaluate|<string>/);
    const syntax = await kernel.run('def (');
    assert.equal(syntax.error!.name, 'SyntaxError');
    assert.match(syntax.error!.traceback, /<cell-\d+>/);
    assert.equal((await kernel.run('x')).outputs[0]!['text/plain'], '5', 'the namespace survives errors');
    const odd = await kernel.run('class Odd(Exception):\n    def __str__(self): raise ValueError("no")\nraise Odd()');
    assert.equal(odd.error!.name, 'Odd');
  });

  it('top-level await runs', async () => {
    const awaited = await kernel.run('import asyncio\nawait asyncio.sleep(0.01)\nx * 2');
    assert.deepEqual(awaited.outputs, [{ 'text/plain': '10' }]);
  });

  it('SIGINT interrupts a busy loop and a sleep with KeyboardInterrupt; the kernel lives on', async () => {
    const busy = await kernel.interrupt('y = 0\nwhile True:\n    y += 1', 300);
    assert.equal(busy.error!.name, 'KeyboardInterrupt');
    const sleeping = await kernel.interrupt('import time\ntime.sleep(100)', 300);
    assert.equal(sleeping.error!.name, 'KeyboardInterrupt');
    assert.deepEqual((await kernel.run('x, y > 0')).outputs, [{ 'text/plain': '(5, True)' }]);
    // Interrupted while it prints: the channel's lines stay whole and the reply comes.
    for (let i = 0; i < 5; i++) {
      const printing = await kernel.interrupt('while True:\n    print("p" * 300000)', 200, 1 << 30);
      assert.equal(printing.error!.name, 'KeyboardInterrupt');
    }
    // A late SIGINT (between cells) must not take the kernel down.
    kernel.child.kill('SIGINT');
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual((await kernel.run('x')).outputs, [{ 'text/plain': '5' }]);
  });

  it('answers a malformed request with a protocol error and keeps serving', async () => {
    (kernel as unknown as { control: Socket }).control.write('{"cell": "x"}\n');
    const reply = await kernel.next();
    assert.equal(reply.error!.name, 'ProtocolError');
    assert.deepEqual((await kernel.run('x')).outputs, [{ 'text/plain': '5' }]);
  });
});

describe('the javascript kernel program', () => {
  let kernel: KernelProcess;
  after(() => kernel?.close());

  it('keeps globals and require between cells and shows the last expression with util.inspect', async () => {
    kernel = await start('javascript', process.execPath);
    assert.deepEqual((await kernel.run('const path = require("node:path"); let x = 41; function f(y) { return y * 2 }')).outputs, []);
    const value = await kernel.run('console.log("hi"); x + 1');
    assert.equal(value.status, 'ok');
    assert.equal(value.stdout, 'hi\n');
    assert.deepEqual(value.outputs, [{ 'text/plain': '42' }]);
    assert.deepEqual((await kernel.run('[f(2), path.basename("/a/b.js"), typeof require]')).outputs, [{ 'text/plain': "[ 4, 'b.js', 'function' ]" }]);
    assert.deepEqual((await kernel.run('{ a: 1 }')).outputs, [{ 'text/plain': '{ a: 1 }' }]);
    const printed = await kernel.run('console.error("err"); process.stdout.write("a"); console.log("b".repeat(50))', 20);
    assert.deepEqual([printed.stdout, printed.stderr, printed.stdout_truncated], ['a' + 'b'.repeat(19), 'err\n', true]);
  });

  it('top-level await runs and its declarations stay', async () => {
    const awaited = await kernel.run('const z = await new Promise((r) => setTimeout(() => r(7), 10));\nz * 2');
    assert.equal(awaited.status, 'ok', JSON.stringify(awaited.error));
    assert.deepEqual(awaited.outputs, [{ 'text/plain': '14' }]);
    assert.deepEqual((await kernel.run('z + x')).outputs, [{ 'text/plain': '48' }]);
  });

  it('reports an error with name, message and stack', async () => {
    const failed = await kernel.run('function g() { throw new TypeError("boom") }\ng()');
    assert.equal(failed.status, 'error');
    assert.deepEqual([failed.error!.name, failed.error!.message], ['TypeError', 'boom']);
    assert.match(failed.error!.traceback, /^TypeError: boom\n {4}at g \(<cell-\d+>:1:22\)/);
    assert.doesNotMatch(failed.error!.traceback, /node:vm|runCell/);
    const syntax = await kernel.run('let (');
    assert.equal(syntax.error!.name, 'SyntaxError');
    const odd = await kernel.run('throw { get stack() { throw 1 }, get name() { throw 2 } }');
    assert.equal(odd.status, 'error');
  });

  it('SIGINT interrupts a busy loop and a pending await; the kernel lives on', async () => {
    const busy = await kernel.interrupt('while (true) {}', 300);
    assert.equal(busy.status, 'error');
    assert.match(busy.error!.message, /interrupted/i);
    const waiting = await kernel.interrupt('await new Promise(() => {})', 300);
    assert.match(waiting.error!.message, /interrupted/i);
    assert.deepEqual((await kernel.run('x')).outputs, [{ 'text/plain': '41' }]);
    kernel.child.kill('SIGINT');
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual((await kernel.run('x')).outputs, [{ 'text/plain': '41' }]);
  });
});
