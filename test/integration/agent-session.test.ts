import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { dataPaths } from '../../src/config/paths.js';
import { DEFAULT_LIMITS } from '../../src/engine/limits.js';
import { ImageStore } from '../../src/images/store.js';
import type { JobStage } from '../../src/protocol/messages.js';
import type { AgentSession } from '../../src/sandbox/agent-session.js';
import type { Backend, Sandbox } from '../../src/sandbox/backend.js';
import { openBackend } from '../../src/sandbox/registry.js';
import { WORKDIR } from '../../src/sandbox/workdir.js';
import { NOTHING_LEFT, leftovers } from '../helpers/host.js';

/*
 * Protocol version 2 on real bwrap sandboxes (src/sandbox/agent-session.ts, agent/src/session.c):
 * one sandbox, many execs and file requests, streamed output, stdin, signals, the control channel,
 * and the file-path attacks sandboxed code can prepare. Fails on main: Sandbox has no openSession
 * and the agent knows no `open` frame.
 */

const paths = dataPaths();

function stage(script: string, options: { name?: string; timeoutMs?: number; stdin?: string; outputLimit?: number } = {}): JobStage {
  return {
    name: options.name ?? 'run',
    argv: ['sh', '-c', script],
    env: ['PATH=/usr/local/bin:/usr/bin:/bin', 'HOME=/tmp', 'LANG=C.UTF-8'],
    cwd: WORKDIR,
    stdin_b64: Buffer.from(options.stdin ?? '').toString('base64'),
    timeout_ms: options.timeoutMs ?? 10_000,
    output_limit: options.outputLimit ?? 1 << 20,
    rlimits: { cpu_s: 30, nofile: 256, fsize_bytes: 64 << 20, stack_bytes: 8 << 20, core_bytes: 0 },
  };
}

const text = (b64: string): string => Buffer.from(b64, 'base64').toString('utf8');

async function rejectsWith(promise: Promise<unknown>, agentCode: string): Promise<void> {
  await assert.rejects(promise, (err: Error & { code?: string; detail?: { agentCode?: string } }) => {
    assert.equal(err.detail?.agentCode, agentCode, err.message);
    assert.equal(err.code, 'RC_ERR_SESSION_REQUEST');
    return true;
  });
}

describe('agent sessions (protocol version 2) on bwrap', () => {
  let backend: Backend;
  let sandbox: Sandbox;
  let session: AgentSession;
  const rootfs = new ImageStore(paths.imagesDir).rootfs('python');

  before(async () => {
    backend = await openBackend({ paths, backend: 'bwrap' });
    sandbox = await backend.start({ image: 'python', rootfs, limits: DEFAULT_LIMITS, traceId: 'agent-session' });
    session = await sandbox.openSession();
  });
  after(async () => {
    await sandbox?.destroy();
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(leftovers(), NOTHING_LEFT, 'a session left cgroups or processes behind');
  });

  it('runs many execs in one sandbox; files persist between them and the file requests', async () => {
    await session.put('src/a.py', Buffer.from('print("from a file")\n'));
    const [first] = await session.exec([stage('python3 src/a.py; echo made > out.txt; mkdir -p d/e; echo x > d/e/f')]).done;
    assert.equal(text(first!.stdout_b64), 'from a file\n');
    const got = await session.get('out.txt', 1000);
    assert.equal(got.content.toString(), 'made\n');
    assert.equal(got.size, 5);
    const [second] = await session.exec([stage('cat out.txt; echo $$ > pid')]).done;
    assert.equal(text(second!.stdout_b64), 'made\n');
    const listing = await session.list('', { recursive: true });
    assert.deepEqual(listing.entries.map((e) => `${e.type} ${e.path}`), ['dir d', 'dir d/e', 'file d/e/f', 'file out.txt', 'file pid', 'dir src', 'file src/a.py']);
    assert.equal(listing.truncated, false);
    await session.remove('d', { recursive: true });
    await rejectsWith(session.get('d/e/f', 100), 'not_found');
    await rejectsWith(session.put('out.txt', Buffer.from('x'), { overwrite: false }), 'exists');
    // A compile-then-run exec, as a compiled language's is: the second stage runs only after the first.
    const stages = await session.exec([stage('echo compiled > bin.txt', { name: 'compile' }), stage('cat bin.txt')]).done;
    assert.deepEqual(stages.map((s) => [s.name, text(s.stdout_b64)]), [['compile', ''], ['run', 'compiled\n']]);
  });

  it('runs two execs at once', async () => {
    const started = Date.now();
    const slow = session.exec([stage('sleep 1; echo slow')]);
    const fast = session.exec([stage('echo fast')]);
    const order: string[] = [];
    await Promise.all([slow.done.then(() => order.push('slow')), fast.done.then(() => order.push('fast'))]);
    assert.deepEqual(order, ['fast', 'slow']);
    assert.equal(text((await slow.done)[0]!.stdout_b64), 'slow\n');
    assert.ok(Date.now() - started < 5000);
  });

  it('streams output while the stage runs, in seq order; the first frame comes ≥ 0.8 s before the result', async () => {
    const frames: { stream: string; data: string; seq: number; at: number }[] = [];
    const stagesSeen: string[] = [];
    const exec = session.exec([stage('python3 -c "import time,sys; print(1, flush=True); time.sleep(1); print(2, file=sys.stderr, flush=True)"')], { stream: true }, {
      onOutput: (stream, data, seq) => frames.push({ stream, data: data.toString(), seq, at: Date.now() }),
      onStage: (name) => stagesSeen.push(name),
    });
    const [report] = await exec.done;
    const doneAt = Date.now();
    assert.deepEqual(stagesSeen, ['run']);
    assert.deepEqual(frames.map((f) => [f.stream, f.data, f.seq]), [['stdout', '1\n', 0], ['stderr', '2\n', 1]]);
    assert.ok(doneAt - frames[0]!.at >= 800, `first output ${doneAt - frames[0]!.at} ms before the result`);
    assert.equal(text(report!.stdout_b64), '1\n', 'the result still carries the full output');
  });

  it('feeds an interactive stage stdin and delivers signals to it', async () => {
    const chat = session.exec([stage('read a; echo got-$a; read b; echo got-$b')], { interactive: true });
    chat.stdin(Buffer.from('one\n'));
    chat.stdin(Buffer.from('two\n'), true);
    assert.equal(text((await chat.done)[0]!.stdout_b64), 'got-one\ngot-two\n');
    const sleeper = session.exec([stage('sleep 30', { timeoutMs: 60_000 })], { interactive: true });
    await new Promise((resolve) => setTimeout(resolve, 300));
    sleeper.signal(15);
    const [report] = await sleeper.done;
    assert.equal(report!.signal, 15);
    assert.equal(report!.exit_code, 143);
  });

  it('relays bytes over the control channel (fd 3) both ways', async () => {
    const seen: Buffer[] = [];
    const exec = session.exec([stage('head -c 5 <&3 | tr a-z A-Z >&3')], { control: true }, { onControl: (data) => seen.push(data) });
    exec.control(Buffer.from('hello'));
    await exec.done;
    assert.equal(Buffer.concat(seen).toString(), 'HELLO');
  });

  it('does not hang on a background daemon that keeps the pipes, and times a stage out', async () => {
    const started = Date.now();
    const [report] = await session.exec([stage('setsid sh -c "sleep 60" & echo started')]).done;
    assert.equal(text(report!.stdout_b64), 'started\n');
    assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
    const [late] = await session.exec([stage('sleep 5', { timeoutMs: 300 })]).done;
    assert.equal(late!.timed_out, true);
    assert.equal(late!.exit_code, 137);
  });

  it('refuses path attacks with the right code and touches nothing outside the workdir', async () => {
    const agentHash = createHash('sha256').update(readFileSync(paths.agent)).digest('hex');
    const passwd = statSync('/etc/passwd');
    await session.exec([stage('ln -s / root; ln -s /etc/passwd passwd; ln -s /.runner/runner-agent agent; ln -s /.runner runner; mkdir real; ln -s real linkdir; mkfifo fifo; head -c 3000000 /dev/zero > big')]).done;
    await rejectsWith(session.get('../etc/passwd', 1000), 'bad_path');
    await rejectsWith(session.get('/etc/passwd', 1000), 'bad_path');
    await rejectsWith(session.get('a\0b', 1000), 'bad_path');
    await rejectsWith(session.get('x'.repeat(256), 1000), 'bad_path');
    await rejectsWith(session.put('a/./b', Buffer.from('x')), 'bad_path');
    await rejectsWith(session.get('passwd', 100_000), 'symlink');
    await rejectsWith(session.get('root/etc/passwd', 100_000), 'symlink');
    await rejectsWith(session.get('agent', 10_000_000), 'symlink');
    await rejectsWith(session.put('agent', Buffer.from('evil')), 'symlink');
    await rejectsWith(session.put('runner/runner-agent', Buffer.from('evil')), 'symlink');
    await rejectsWith(session.put('linkdir/x', Buffer.from('x')), 'symlink');
    await rejectsWith(session.list('root', { recursive: true }), 'symlink');
    await rejectsWith(session.get('fifo', 100), 'bad_path');
    await rejectsWith(session.put('fifo', Buffer.from('x')), 'bad_path');
    await rejectsWith(session.get('big', 1_000_000), 'too_large');
    await rejectsWith(session.get('real', 100), 'is_dir');
    await session.remove('root', { recursive: true }); // the link itself, never its target
    await session.remove('passwd');
    const listed = await session.list('', { recursive: true });
    assert.ok(listed.entries.some((e) => e.path === 'agent' && e.type === 'symlink'), 'symlinks are listed, not followed');
    assert.ok(!listed.entries.some((e) => e.path.startsWith('agent/') || e.path.startsWith('runner/')));
    assert.equal(createHash('sha256').update(readFileSync(paths.agent)).digest('hex'), agentHash, 'the agent binary is unchanged');
    assert.deepEqual(statSync('/etc/passwd').mtimeMs, passwd.mtimeMs);
    // The sandbox is still fine after all of it.
    const [ok] = await session.exec([stage('ls /etc/passwd >/dev/null && echo alive')]).done;
    assert.equal(text(ok!.stdout_b64), 'alive\n');
  });

  it('a memory bomb in one exec is OOM-killed and the session lives on', async () => {
    const [bomb] = await session.exec([stage('exec python3 -c "x = []\nwhile True: x.append(bytearray(16 << 20))"', { timeoutMs: 20_000 })]).done;
    assert.equal(bomb!.signal, 9, JSON.stringify(bomb));
    assert.ok(sandbox.stats().oomKills > 0, 'the cgroup counted the OOM kill');
    await session.put('after-bomb.txt', Buffer.from('still here'));
    const [after] = await session.exec([stage('cat after-bomb.txt')]).done;
    assert.equal(text(after!.stdout_b64), 'still here');
  });

  it('a file request runs with the program\'s rights, not the agent\'s', async () => {
    await session.exec([stage('echo secret > mine; chmod 000 mine; id -u')]).done;
    await rejectsWith(session.get('mine', 100), 'bad_path');
  });
});

describe('a session\'s end on bwrap', () => {
  it('destroy leaves no process or cgroup, even with a daemon and a running exec', async () => {
    const backend = await openBackend({ paths, backend: 'bwrap' });
    const rootfs = new ImageStore(paths.imagesDir).rootfs('python');
    const sandbox = await backend.start({ image: 'python', rootfs, limits: DEFAULT_LIMITS, traceId: 'agent-session-end' });
    const session = await sandbox.openSession();
    await session.exec([stage('setsid sh -c "sleep 60" >/dev/null 2>&1 &')]).done;
    const running = session.exec([stage('sleep 60', { timeoutMs: 120_000 })]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.notDeepEqual(leftovers().processes, [], 'the daemon and the exec run while the session lives');
    await sandbox.destroy();
    await assert.rejects(running.done);
    await assert.rejects(session.get('x', 10));
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(leftovers(), NOTHING_LEFT);
  });

  it('close: the agent kills everything, a setsid daemon too, and the sandbox ends by itself', async () => {
    const backend = await openBackend({ paths, backend: 'bwrap' });
    const sandbox = await backend.start({ image: 'python', rootfs: new ImageStore(paths.imagesDir).rootfs('python'), limits: DEFAULT_LIMITS, traceId: 'agent-session-close' });
    try {
      const session = await sandbox.openSession();
      await session.exec([stage('setsid sh -c "sleep 60" >/dev/null 2>&1 &')]).done;
      const running = session.exec([stage('sleep 60', { timeoutMs: 120_000 })]);
      session.close();
      await assert.rejects(running.done, /session closed/);
      const deadline = Date.now() + 5000;
      while (sandbox.alive && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(sandbox.alive, false, 'the sandbox ended when its agent exited');
      assert.deepEqual(leftovers().processes, [], 'no process of the session outlives close, before any destroy');
    } finally {
      await sandbox.destroy();
    }
    assert.deepEqual(leftovers(), NOTHING_LEFT);
  });

  it('one sandbox serves one job or one session, never both', async () => {
    const backend = await openBackend({ paths, backend: 'bwrap' });
    const sandbox = await backend.start({ image: 'python', rootfs: new ImageStore(paths.imagesDir).rootfs('python'), limits: DEFAULT_LIMITS, traceId: 'agent-session-once' });
    try {
      await sandbox.openSession();
      await assert.rejects(sandbox.openSession(), /already ran a session/);
    } finally {
      await sandbox.destroy();
    }
  });
});
