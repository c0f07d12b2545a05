import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { openEngine } from '../../src/compose/open-engine.js';
import { ErrorCodes } from '../../src/errors.js';
import { detectCgroupMode } from '../../src/sandbox/cgroup/detect.js';
import { NOTHING_LEFT, leftovers } from '../helpers/host.js';
import { securityServer } from '../helpers/hostile.js';
import { waitForProcess } from '../helpers/sandbox-procs.js';

/*
 * Killing a bwrap sandbox on cgroup v1 without a freezer (docs/security.md, "Killing a sandbox"):
 * a server's engine kills the sandbox's first process (bwrap, a child of the fork server), and the
 * pid namespace's init dies with it, taking every process of the namespace along. The program
 * here hides a daemon (double fork, setsid, ignored signals) and the host cancels the execution
 * while it runs, so the agent's own clean-up after a stage never gets the chance: only the host's
 * kill can end them. Host evidence: the process table and the cgroup hierarchies.
 */

const v1 = detectCgroupMode() === 'v1';
const CGROUPS = '/sys/fs/cgroup';
const statusOf = (pid: number): string => readFileSync(`/proc/${pid}/status`, 'utf8');
const gone = (pid: number): boolean => {
  try {
    return /^State:\s+Z/m.test(statusOf(pid));
  } catch {
    return true;
  }
};
/** pid, ppid and session of a process, from the host's /proc (fields after the parenthesised comm). */
const statOf = (pid: number): { ppid: number; session: number } => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const [, ppid, , session] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { ppid: Number(ppid), session: Number(session) };
};

describe('killing a bwrap sandbox through its pid namespace (cgroup v1, no freezer)', { skip: v1 ? false : 'the freezer is a cgroup v1 hierarchy' }, () => {
  it('a double-forked, setsid() daemon that ignores signals is gone once the host cancels the run; the sandbox never had a freezer cgroup', async () => {
    const engine = await openEngine({ backend: 'bwrap', forkServer: true });
    try {
      const controller = new AbortController();
      const running = engine.execute(
        {
          language: 'bash',
          code: "(setsid bash -c 'trap \"\" TERM HUP INT; exec -a rc-kill-daemon sleep 1000' &); trap '' TERM HUP INT; exec -a rc-kill-main sleep 1000",
          limits: { timeoutMs: 60_000 },
        },
        { signal: controller.signal },
      );
      const daemon = await waitForProcess((p) => p.cmdline.startsWith('rc-kill-daemon'));
      const main = await waitForProcess((p) => p.cmdline.startsWith('rc-kill-main'));
      assert.equal(daemon.sandbox, main.sandbox);
      // It really left: its own session, orphaned to the namespace's init (the agent, PID 1 there).
      const { ppid, session } = statOf(daemon.pid);
      assert.equal(session, daemon.pid, 'the daemon is not a session leader');
      assert.match(statusOf(ppid), /^NSpid:\s+\d+\s+1$/m, 'the daemon was not reparented to the sandbox\'s init');
      assert.notEqual(session, statOf(main.pid).session);
      // The sandbox's cgroup has its limiting hierarchies and no freezer one, and the daemon is in no sandbox freezer cgroup.
      for (const controller of ['memory', 'pids', 'cpu']) assert.ok(existsSync(`${CGROUPS}/${controller}/runner-codes/${daemon.sandbox}`), `no ${controller} cgroup`);
      assert.equal(existsSync(`${CGROUPS}/freezer/runner-codes/${daemon.sandbox}`), false, 'a freezer cgroup was made for a bwrap sandbox');
      const freezerLine = readFileSync(`/proc/${daemon.pid}/cgroup`, 'utf8').split('\n').find((line) => /^\d+:freezer:/.test(line));
      assert.ok(freezerLine !== undefined && !freezerLine.includes(daemon.sandbox), `the daemon is in a sandbox freezer cgroup: ${freezerLine}`);

      const cancelled = performance.now();
      controller.abort();
      const result = await running;
      const tookMs = performance.now() - cancelled;
      assert.equal(result.error?.code, ErrorCodes.CANCELLED, JSON.stringify(result).slice(0, 300));
      // execute() resolves once the teardown is done: nothing of the sandbox is left, not even a zombie.
      for (const pid of [daemon.pid, main.pid]) assert.ok(gone(pid), `process ${pid} outlived its sandbox`);
      for (const controller of ['memory', 'pids', 'cpu', 'freezer']) assert.equal(existsSync(`${CGROUPS}/${controller}/runner-codes/${daemon.sandbox}`), false, `its ${controller} cgroup is left`);
      // By the namespace, at once: the pid-by-pid fallback only starts after a 2 s wait for the cgroup to empty.
      assert.ok(tookMs < 1500, `the teardown took ${Math.round(tookMs)} ms`);
    } finally {
      await engine.close();
    }
    await sleep(100);
    assert.deepEqual(leftovers(), NOTHING_LEFT);
  });
});

describe('killing a bwrap sandbox through its pid namespace, over the API (cgroup v1, no freezer)', { skip: v1 ? false : 'the freezer is a cgroup v1 hierarchy' }, async () => {
  // A real server (warm pool, fork server) is only started where the case runs.
  const server = v1 ? await securityServer() : undefined;
  it('python: a double-forked setsid() daemon ignoring signals is gone after the client disconnects mid-run', async () => {
    const code = [
      'import os, signal, time',
      'if os.fork() == 0:',
      '    os.setsid()',
      '    if os.fork() == 0:',
      '        for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT): signal.signal(s, signal.SIG_IGN)',
      '        open("/proc/self/comm", "w").write("rc-daemon")',
      '        while True: time.sleep(1)',
      '    os._exit(0)',
      'time.sleep(100)',
    ].join('\n');
    const client = new AbortController();
    const request = fetch(`${server!.base}/api/v1/execute`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ language: 'python', code, timeout: 30_000 }), signal: client.signal }).catch(() => undefined);
    const daemon = await waitForProcess((p) => p.comm === 'rc-daemon');
    // Double-forked: its session's leader (the middle child) has exited and it was reparented to the sandbox's init.
    const { ppid, session } = statOf(daemon.pid);
    assert.ok(session !== daemon.pid && gone(session), 'the daemon\'s session leader is still there');
    assert.match(statusOf(ppid), /^NSpid:\s+\d+\s+1$/m, 'the daemon was not reparented to the sandbox\'s init');
    assert.equal(existsSync(`${CGROUPS}/freezer/runner-codes/${daemon.sandbox}`), false, 'a freezer cgroup was made for a bwrap sandbox');
    client.abort();
    await request;
    // The server destroys the sandbox of a request whose client went away (after the reply would have gone).
    const dirs = ['memory', 'pids', 'cpu'].map((controller) => `${CGROUPS}/${controller}/runner-codes/${daemon.sandbox}`);
    for (let i = 0; i < 150 && (!gone(daemon.pid) || dirs.some((dir) => existsSync(dir))); i++) await sleep(20);
    assert.ok(gone(daemon.pid), 'the daemon outlived its sandbox');
    for (const dir of dirs) assert.equal(existsSync(dir), false, `${dir} is left`);
  });
});
