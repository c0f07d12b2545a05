import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { openEngine } from '../../src/compose/open-engine.js';
import { dataPaths } from '../../src/config/paths.js';
import { ForkServer } from '../../src/sandbox/fork-server.js';
import type { Engine } from '../../src/engine/engine.js';
import { openCgroupDriver } from '../../src/sandbox/cgroup/detect.js';
import { removeStaleSandboxes } from '../../src/sandbox/stale-sandboxes.js';
import { NOTHING_LEFT, leftovers } from '../helpers/host.js';
import { sandboxProcesses, waitForProcess, type SandboxProcess } from '../helpers/sandbox-procs.js';

/*
 * runner-forkserver (agent/src/forkserver.c, src/sandbox/fork-server.ts): a server's engine starts
 * sandboxes through it instead of forking its own Node process. Real sandboxes, a real fork server.
 */

const paths = dataPaths();
const statusOf = (pid: number): string => readFileSync(`/proc/${pid}/status`, 'utf8');
const ppidOf = (pid: number): number => Number(/^PPid:\s+(\d+)/m.exec(statusOf(pid))![1]);
const commOf = (pid: number): string => readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
const alive = (pid: number): boolean => {
  try {
    return !/^State:\s+Z/m.test(statusOf(pid));
  } catch {
    return false;
  }
};

/** This process's runner-forkserver children. */
const forkServers = (): number[] =>
  readFileSync(`/proc/self/task/${process.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number).filter((pid) => alive(pid) && commOf(pid) === 'runner-forkserv');

let engines: Engine[] = [];
async function engineWith(forkServer: boolean): Promise<Engine> {
  const engine = await openEngine({ backend: 'bwrap', forkServer });
  engines.push(engine);
  return engine;
}

after(async () => {
  await Promise.all(engines.map((engine) => engine.close()));
  engines = [];
  await sleep(200);
  assert.deepEqual(leftovers(), NOTHING_LEFT, 'sandboxes left cgroups or processes behind');
});

/**
 * A sleeping execution through a fork-server engine, and the top process of its sandbox (bwrap's
 * first, which stays outside the sandbox's namespaces).
 */
async function sleepingSandbox(): Promise<{ running: ReturnType<Engine['execute']>; top: SandboxProcess }> {
  const engine = await engineWith(true);
  const running = engine.execute({ language: 'bash', code: 'sleep 3; echo done' });
  const sleeper = await waitForProcess((p) => p.comm === 'sleep');
  const inSandbox = sandboxProcesses().filter((p) => p.sandbox === sleeper.sandbox);
  return { running, top: inSandbox.find((p) => !inSandbox.some((q) => q.pid === ppidOf(p.pid)))! };
}

describe('the fork server', () => {
  it('starts the sandbox: its bwrap is a child of runner-forkserver, itself a child of the engine, not of the engine directly', async () => {
    const { running, top } = await sleepingSandbox();
    const server = ppidOf(top.pid);
    assert.equal(commOf(server), 'runner-forkserv', `the sandbox's top process ${top.comm} has parent ${commOf(server)}`);
    assert.equal(ppidOf(server), process.pid, 'the fork server is the engine\'s child');
    // SECURITY: it keeps nothing of the engine's environment.
    assert.equal(readFileSync(`/proc/${server}/environ`, 'utf8').split('\0').filter((v) => v && !v.startsWith('NODE_CHANNEL_')).length, 0);
    const result = await running;
    assert.equal(result.stdout, 'done\n');
  });

  it('launches bwrap from a small mount namespace: none of the host\'s /sys, /dev/pts, /dev/shm mounts, and fewer mounts than the host', async () => {
    // bwrap's first process stays outside the sandbox's namespaces: it shows where bwrap started.
    const { running, top } = await sleepingSandbox();
    assert.equal(commOf(top.pid), 'bwrap');
    const mountPoints = (pid: number | 'self'): string[] => readFileSync(`/proc/${pid}/mountinfo`, 'utf8').trim().split('\n').map((line) => line.split(' ')[4]!);
    const launched = mountPoints(top.pid);
    const host = mountPoints('self');
    assert.deepEqual(launched.filter((m) => m === '/sys' || m.startsWith('/sys/') || m === '/dev/pts' || m === '/dev/shm'), []);
    assert.ok(launched.length < host.length, `${launched.length} mounts where bwrap started, ${host.length} on the host`);
    // What the sandbox is made from is still there.
    for (const needed of ['/', '/proc', '/dev']) assert.ok(launched.includes(needed) || !host.includes(needed), needed);
    // The host's own mount table is untouched.
    assert.ok(host.some((m) => m.startsWith('/sys')), 'the host still has /sys');
    assert.equal((await running).stdout, 'done\n');
  });

  it('gives the sandbox the /dev a forked sandbox has (the same nodes, links and modes, read-only), made once in the launch namespace', async () => {
    const [spawned, forked] = await Promise.all([engineWith(false), engineWith(true)]);
    // Owners left out: the prepared /dev is the host root's (nobody in the sandbox), bwrap's is the agent's.
    const code = [
      "cd /dev && stat -c '%n %F %a %t:%T %N' . * | sort",
      "stat -f -c 'size %b*%S' /dev /dev/shm",
      'awk \'$5 == "/dev" { split($6, o, ","); print "/dev", o[1] }\' /proc/self/mountinfo',
      ': > /dev/new 2>/dev/null || echo "/dev refuses new files"',
      'mkdir /dev/dir 2>/dev/null || echo "/dev refuses directories"',
      'echo x > /dev/null && head -c 4 /dev/urandom | wc -c && head -c 2 /dev/zero | wc -c',
      'echo x > /dev/full 2>/dev/null || echo "/dev/full is full"',
      'echo shm > /dev/shm/f && cat /dev/shm/f',
      'cat /proc/cmdline 2>&1 | grep -c "Permission denied"',
    ].join('; ');
    const [a, b] = await Promise.all([spawned.execute({ language: 'bash', code }), forked.execute({ language: 'bash', code })]);
    assert.equal(a.status, 'success', a.stderr);
    assert.match(a.stdout, /^\. directory 755 /m);
    assert.match(a.stdout, /^null character special file 666 1:3 /m);
    assert.match(a.stdout, /^fd symbolic link 777 0:0 'fd' -> '\/proc\/self\/fd'$/m);
    assert.match(a.stdout, /^\/dev ro$/m);
    assert.match(a.stdout, /^\/dev refuses new files\n\/dev refuses directories\n4\n2\n\/dev\/full is full\nshm\n1\n$/m);
    assert.equal(b.stdout, a.stdout, 'the same /dev through the fork server');
    assert.equal(b.stderr, a.stderr);
  });

  it('makes the launch namespace\'s /dev the sandboxes\' own: six nodes, nothing of the host\'s, read-only', async () => {
    const { running, top } = await sleepingSandbox();
    // bwrap's first process is in the launch mount namespace.
    const dev = `/proc/${top.pid}/root/dev`;
    assert.deepEqual(readdirSync(dev).sort(), ['fd', 'full', 'null', 'random', 'shm', 'stderr', 'stdin', 'stdout', 'tty', 'urandom', 'zero']);
    assert.deepEqual(readdirSync(`${dev}/shm`), []);
    const mount = readFileSync(`/proc/${top.pid}/mountinfo`, 'utf8').trim().split('\n').map((line) => line.split(' ')).filter((f) => f[4] === '/dev' || f[4]!.startsWith('/dev/'));
    assert.equal(mount.length, 1, 'one mount, nothing below it');
    assert.match(mount[0]![5]!, /^ro,nosuid/);
    assert.ok(existsSync('/dev/pts') && readdirSync('/dev').length > 11, "the host's /dev is untouched");
    assert.equal((await running).stdout, 'done\n');
  });

  it('where it may not make device nodes (no CAP_MKNOD) it binds the host\'s into the sandboxes\' /dev: the same /dev', async () => {
    const code = "cd /dev && stat -c '%n %F %a %t:%T %N' . * | sort; echo x > /dev/null && head -c 4 /dev/urandom | wc -c; awk '$5 ~ \"^/dev/\" && $5 != \"/dev/shm\" { print $5 }' /proc/self/mountinfo";
    const forked = await (await engineWith(true)).execute({ language: 'bash', code });
    // An engine whose fork server lacks CAP_MKNOD: dropped from the bounding set before exec, so
    // neither node nor anything it starts has it.
    const engineModule = new URL('../../src/compose/open-engine.js', import.meta.url).href;
    const script = `const { openEngine } = await import(${JSON.stringify(engineModule)});
      const engine = await openEngine({ backend: 'bwrap', forkServer: true });
      process.stdout.write(JSON.stringify(await engine.execute({ language: 'bash', code: ${JSON.stringify(code)} })));
      await engine.close();`;
    const dropMknod = 'import ctypes, os, sys\nif ctypes.CDLL(None).prctl(24, 27, 0, 0, 0) != 0: sys.exit("PR_CAPBSET_DROP failed")\nos.execv(sys.argv[1], sys.argv[1:])';
    const child = spawn('/usr/bin/python3', ['-c', dropMknod, process.execPath, '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    await once(child, 'exit');
    const withoutMknod = JSON.parse(out) as { status: string; stdout: string };
    assert.equal(withoutMknod.status, 'success', err);
    const [listing, mounts] = [(r: { stdout: string }) => r.stdout.split('\n').filter((l) => !l.startsWith('/dev/')).join('\n'), (r: { stdout: string }) => r.stdout.split('\n').filter((l) => l.startsWith('/dev/'))];
    assert.equal(listing(withoutMknod), listing(forked));
    assert.deepEqual(mounts(forked), [], 'made nodes: one /dev mount');
    assert.deepEqual(mounts(withoutMknod), ['/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom', '/dev/tty'], 'the host\'s nodes bound in');
  });

  it('runner-launch --require-sandbox-dev starts nothing without the sandboxes\' /dev: not in the host\'s mount namespace, nor given it', async () => {
    const launch = async (args: string[], ns?: number): Promise<{ code: number | null; stdout: string; stderr: string }> => {
      const child = spawn(paths.launcher, [...args, '--require-sandbox-dev', '--uid', '65534', '--gid', '65534', '--', '/bin/echo', 'ran'], { stdio: ['ignore', 'pipe', 'pipe', 'ignore', 'ignore', ns ?? 'ignore'] });
      let stdout = '';
      let stderr = '';
      child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      const [code] = (await once(child, 'exit')) as [number | null];
      return { code, stdout, stderr };
    };
    const none = await launch([]);
    assert.deepEqual([none.code, none.stdout], [125, '']);
    assert.match(none.stderr, /--require-sandbox-dev: no launch mount namespace/);
    const hostNs = openSync('/proc/self/ns/mnt', 'r');
    try {
      const host = await launch(['--mount-ns-fd', '5'], hostNs);
      assert.deepEqual([host.code, host.stdout], [125, '']);
      assert.match(host.stderr, /\/dev in the launch mount namespace is not the sandboxes'/);
    } finally {
      closeSync(hostNs);
    }
  });

  it('gives the same results as a sandbox the engine forks: output, exit status, signals, stdin, limits', async () => {
    const [spawned, forked] = await Promise.all([engineWith(false), engineWith(true)]);
    const requests = [
      { language: 'python', code: 'import sys; print(sys.stdin.read().upper()); sys.exit(3)', stdin: 'abc' },
      { language: 'bash', code: 'echo out; echo err >&2; kill -9 $$' },
      { language: 'python', code: 'x = bytearray(400 * 1024 * 1024)', limits: { memoryBytes: 64 * 1024 * 1024 } },
      { language: 'bash', code: 'sleep 5', limits: { timeoutMs: 300 } },
    ];
    for (const request of requests) {
      const [a, b] = await Promise.all([spawned.execute(request), forked.execute(request)]);
      const seen = (r: typeof a) => ({ status: r.status, stdout: r.stdout, stderr: r.stderr, exit_code: r.exit_code, signal: r.signal, timed_out: r.timed_out, oom_killed: r.oom_killed });
      assert.deepEqual(seen(b), seen(a), `${request.language}: ${request.code}`);
    }
  });

  it('starts many sandboxes in a row and leaves no child unreaped', async () => {
    const engine = await engineWith(true);
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => engine.execute({ language: 'bash', code: `echo ${i}` })));
    assert.deepEqual(results.map((r) => r.stdout), Array.from({ length: 12 }, (_, i) => `${i}\n`));
    await sleep(200);
    assert.ok(forkServers().length > 0, 'the engine started its sandboxes through a fork server');
    for (const server of forkServers()) {
      const children = readFileSync(`/proc/${server}/task/${server}/children`, 'utf8').trim();
      assert.equal(children, '', `runner-forkserver ${server} still has children: ${children}`);
    }
  });

  it('replaces a fork server that died at the next start', async () => {
    const before = new Set(forkServers());
    const engine = await engineWith(true);
    assert.equal((await engine.execute({ language: 'bash', code: 'echo 1' })).stdout, '1\n');
    const [first] = forkServers().filter((pid) => !before.has(pid));
    assert.ok(first, 'the engine started a fork server');
    process.kill(first, 'SIGKILL');
    for (let i = 0; i < 100 && alive(first); i++) await sleep(20);
    await sleep(100);
    assert.equal((await engine.execute({ language: 'bash', code: 'echo 2' })).stdout, '2\n');
    const [second] = forkServers().filter((pid) => !before.has(pid));
    assert.ok(second !== undefined && second !== first, 'a new fork server started');
  });

  it('dies with the engine, and the sandboxes it started die with it', async () => {
    const script = fileURLToPath(new URL('../helpers/fork-server-engine.js', import.meta.url));
    const engineProcess: ChildProcess = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const [line] = (await once(engineProcess.stdout!, 'data')) as [Buffer];
      const { server } = JSON.parse(line.toString()) as { server: number };
      assert.equal(commOf(server), 'runner-forkserv');
      let sleeper: SandboxProcess | undefined;
      for (let i = 0; i < 400 && !sleeper; i++, await sleep(50)) sleeper = sandboxProcesses(true).find((p) => p.comm === 'sleep' && p.cmdline.includes('1234'));
      assert.ok(sleeper, 'the sandbox did not start');
      engineProcess.kill('SIGKILL');
      const deadline = Date.now() + 10_000;
      while ((alive(server) || alive(sleeper.pid)) && Date.now() < deadline) await sleep(50);
      assert.equal(alive(server), false, 'the fork server outlived the engine');
      assert.equal(alive(sleeper.pid), false, 'a sandbox outlived the engine');
    } finally {
      engineProcess.kill('SIGKILL');
      if (engineProcess.exitCode === null && engineProcess.signalCode === null) await once(engineProcess, 'exit');
      // The dead engine's cgroups: what the next engine's start-up removes.
      await removeStaleSandboxes(openCgroupDriver());
    }
  });

  it('kills what a launch leaves behind when it dies (a child subreaper): bwrap\'s pid namespace init orphaned before its parent-death signal', async () => {
    // Its "launcher" here is sh, which starts a sleep, reports its pid and exits: the sleep is
    // orphaned as such an init would be. Reparented to init instead, it would sleep on.
    const server = spawn(paths.forkServer, ['--launcher', '/bin/sh'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], env: {} });
    let orphan = 0;
    try {
      const handles: Socket[] = [];
      let output = '';
      let exited = false;
      server.on('message', (message: { type: string; stream?: string }, handle?: Socket) => {
        if (handle) handles.push(handle);
        if (message.type === 'exit') exited = true;
        if (handle && message.stream === 'agent') handle.on('data', (data: Buffer) => (output += data.toString()));
      });
      server.send({ type: 'launch', id: 1, args: ['-c', 'sleep 1000 & echo $!'], fd_file: -1 });
      for (let i = 0; i < 200 && !(exited && output.includes('\n')); i++) await sleep(20);
      orphan = Number(output.trim());
      assert.ok(exited && orphan > 0, `the launch ran and exited (${output})`);
      for (let i = 0; i < 100 && alive(orphan); i++) await sleep(20);
      assert.equal(alive(orphan), false, `the orphaned sleep ${orphan} outlived its launch`);
      for (const handle of handles) handle.destroy();
    } finally {
      // Only if the test failed: the sleep is ours (its cmdline says so), and still a child of the server or init.
      if (orphan > 0 && alive(orphan) && commOf(orphan) === 'sleep') process.kill(orphan, 'SIGKILL');
      server.disconnect();
      await once(server, 'exit');
    }
  });

  it('when it dies, what outlived it reads EOF on the agent socket (an agent there exits; no job reaches it)', async () => {
    // Its "launcher" here is a script that waits for a line on its agent socket (whatever its
    // arguments): the stand-in for an agent whose bwrap child the dead server could no longer
    // kill. It has no parent-death signal.
    const launcher = join(tmpdir(), `rc-waiting-launcher-${process.pid}`);
    writeFileSync(launcher, '#!/bin/sh\nread line\n', { mode: 0o755 });
    const server = await ForkServer.start(paths.forkServer, launcher, []);
    const child = await server.launch([], -1);
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    const pid = child.pid!;
    try {
      for (let i = 0; i < 100 && !(alive(pid) && commOf(pid) === 'sh'); i++) await sleep(10);
      assert.ok(alive(pid), 'the launch is not running');
      const serverPid = ppidOf(pid);
      assert.equal(commOf(serverPid), 'runner-forkserv', 'the launch is the fork server\'s child');
      process.kill(serverPid, 'SIGKILL');
      assert.equal(await Promise.race([closed.then(() => 'closed'), sleep(3000, 'open')]), 'closed', 'the engine still holds the launch\'s sockets');
      for (let i = 0; i < 100 && alive(pid); i++) await sleep(20);
      assert.equal(alive(pid), false, 'the process that outlived the fork server still waits on its socket');
    } finally {
      if (alive(pid) && commOf(pid) === 'sh') process.kill(pid, 'SIGKILL');
      rmSync(launcher, { force: true });
    }
  });

  it('runs only its launcher, with no environment, and answers malformed requests with an error', async () => {
    // Started here with /usr/bin/env as its "launcher": what it runs, and with which environment, shows.
    const server = spawn(paths.forkServer, ['--launcher', '/usr/bin/env', '--fd-file', '/etc/hostname'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], env: { SECRET: 'x' } });
    try {
      const answers: { message: { type: string; id: number; message?: string; stream?: string; code?: number }; handle?: Socket }[] = [];
      server.on('message', (message: (typeof answers)[number]['message'], handle?: Socket) => answers.push({ message, ...(handle ? { handle } : {}) }));
      const until = async (done: () => boolean): Promise<void> => {
        for (let i = 0; i < 200 && !done(); i++) await sleep(20);
      };
      server.send({ type: 'launch', id: 1, args: [1, 2], fd_file: -1 });
      server.send({ type: 'launch', id: 2, args: [], fd_file: 7 });
      server.send({ type: 'kill', id: 99, signal: 9 });
      server.send({ type: 'launch', id: 3, args: ['A=1', 'sh', '-c', 'echo "$A${SECRET:-} $(cat <&3)"'], fd_file: 0 });
      await until(() => answers.some((a) => a.message.type === 'exit'));
      assert.match(answers.find((a) => a.message.id === 1)!.message.message!, /each arg must be a string/);
      assert.match(answers.find((a) => a.message.id === 2)!.message.message!, /fd_file/);
      const agent = answers.find((a) => a.message.id === 3 && a.message.stream === 'agent')!.handle!;
      let output = '';
      agent.on('data', (data: Buffer) => (output += data.toString()));
      await until(() => output.includes('\n'));
      assert.equal(output, `1 ${readFileSync('/etc/hostname', 'utf8').trim()}\n`, 'it ran its launcher with the arguments, the file on fd 3, and nothing of its own environment');
      assert.equal(answers.find((a) => a.message.type === 'exit')!.message.code, 0);
      for (const { handle } of answers) handle?.destroy();
    } finally {
      server.disconnect();
      await once(server, 'exit');
    }
  });
});
