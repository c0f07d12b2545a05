import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_LIMITS } from '../../src/engine/limits.js';
import type { SandboxSpec } from '../../src/sandbox/backend.js';
import { openCgroupDriver } from '../../src/sandbox/cgroup/detect.js';
import { DEFAULT_HOST_ID_RANGE } from '../../src/sandbox/host-ids.js';
import type { AgentStreams, LaunchedSandbox, SandboxLiveness, SandboxSlot } from '../../src/sandbox/launched-sandbox.js';
import { ProcessBackend, type SandboxCommand } from '../../src/sandbox/process-backend.js';

/*
 * The one base every backend extends (src/sandbox/process-backend.ts, docs/architecture.md): it
 * takes the uid and the cgroup, spawns what command() says, and undoes it all in reverse — on a
 * failure at any step, and on destroy() — whatever the backend. A real cgroup and a real process;
 * only the agent is missing (connect() waits until the sandbox cannot come up).
 */

/** A backend whose "sandbox" is one idle node process; `failCommand` makes its command() hook throw. */
class IdleBackend extends ProcessBackend<{ image: string }, { started: number }> {
  readonly name = 'bwrap';
  readonly kind = 'sandbox';
  readonly fixedAtStart = [] as const;
  readonly events: string[] = [];
  failCommand = false;

  constructor() {
    super({ cgroups: openCgroupDriver(), hostIds: DEFAULT_HOST_ID_RANGE, startTimeoutMs: 60_000 });
  }

  ownCgroups(): string[] {
    return this.cgroups.list().filter((name) => name.startsWith(`rc-${process.pid}-`));
  }

  get heldIds(): number {
    return this.ids.held;
  }

  protected plan(spec: SandboxSpec): { image: string } {
    this.events.push('plan');
    return { image: spec.image };
  }

  protected async command(slot: SandboxSlot): Promise<SandboxCommand<{ started: number }>> {
    this.events.push(`command ${this.cgroups.list().includes(slot.name) ? 'in its cgroup' : 'without a cgroup'}`);
    if (this.failCommand) throw new Error('no such VMM');
    return { argv: [process.execPath, '-e', 'setInterval(() => {}, 1000)'], agentOnStdio: false, run: { started: Date.now() } };
  }

  /** No agent ever answers: waits, as a VM's connect does, until the sandbox cannot come up. */
  async connect(_sandbox: unknown, live: SandboxLiveness): Promise<AgentStreams> {
    for (;;) {
      live.check();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  protected override async cleanup(slot: SandboxSlot): Promise<void> {
    this.events.push(`cleanup ${this.cgroups.list().includes(slot.name) ? 'with its cgroup' : 'after its cgroup'}`);
  }

  override async release(sandbox: LaunchedSandbox<{ image: string }, { started: number }>): Promise<void> {
    this.events.push(`release ${sandbox.child.exitCode !== null || sandbox.child.signalCode !== null ? 'after its process' : 'while its process runs'}`);
    await super.release(sandbox);
  }
}

const spec: SandboxSpec = { image: 'python', rootfs: '/nonexistent', limits: DEFAULT_LIMITS, traceId: 'test' };

describe('ProcessBackend, the base of every backend', () => {
  it('undoes the cgroup, the backend\'s cleanup and the uid when a hook fails, and names the backend', async () => {
    const backend = new IdleBackend();
    backend.failCommand = true;
    const before = backend.ownCgroups();
    await assert.rejects(backend.start(spec), (err: Error & { code?: string }) => err.code === 'RC_ERR_SANDBOX_START' && /^cannot start bwrap: no such VMM/.test(err.message));
    assert.deepEqual(backend.events, ['plan', 'command in its cgroup', 'cleanup after its cgroup']);
    assert.equal(backend.heldIds, 0);
    assert.deepEqual(backend.ownCgroups(), before);
  });

  it('destroy() kills the cgroup and reaps the process before the backend\'s cleanup and the uid', async () => {
    const backend = new IdleBackend();
    const before = backend.ownCgroups();
    const sandbox = await backend.start(spec);
    assert.equal(backend.heldIds, 1);
    assert.ok(backend.ownCgroups().includes(sandbox.id));
    assert.equal(sandbox.alive, true);
    await sandbox.destroy();
    assert.equal(sandbox.alive, false);
    assert.deepEqual(backend.events, ['plan', 'command in its cgroup', 'release after its process', 'cleanup after its cgroup']);
    assert.equal(backend.heldIds, 0);
    assert.deepEqual(backend.ownCgroups(), before);
    await assert.rejects(sandbox.ready(), /sandbox destroyed|exited|killed/);
  });
});
