import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openService } from '../../src/compose/open-service.js';
import type { ExecutionResult } from '../../src/engine/result.js';
import { ErrorCodes, InvalidRequestError, RunnerError } from '../../src/errors.js';
import { NOTHING_LEFT, leftovers } from '../helpers/host.js';

/*
 * The one service every edge calls (src/engine/service.ts), on this host's real bwrap sandboxes:
 * its queue pushes back, it cancels, it tells its hook about every execution, and it names the
 * `backend` field when a request picks one it does not offer.
 */
describe('the execution service', async () => {
  const service = await openService({ engine: { backend: 'bwrap' }, concurrency: 1, maxQueued: 0 });
  const seen: { result: ExecutionResult; waitedMs: number }[] = [];
  service.onExecuted((result, waitedMs) => seen.push({ result, waitedMs }));
  after(async () => {
    await service.close();
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(leftovers(), NOTHING_LEFT);
  });

  it('runs a request and tells its hook, with the time it waited for a slot', async () => {
    const result = await service.execute({ language: 'python', code: 'print(6 * 7)' }, { traceId: 'service-test-1' });
    assert.equal(result.status, 'success');
    assert.equal(result.stdout, '42\n');
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.result.trace_id, 'service-test-1');
    assert.ok(seen[0]!.waitedMs >= 0);
  });

  it('pushes back with QUEUE_FULL when its one slot is busy and no waiting is allowed', async () => {
    const busy = service.execute({ language: 'bash', code: 'sleep 1' }, {});
    // The first call takes the slot synchronously once its validation has passed.
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(service.running, 1);
    assert.equal(await service.canAccept(1), false);
    await assert.rejects(service.execute({ language: 'bash', code: 'true' }, {}), (err: RunnerError) => err.code === ErrorCodes.QUEUE_FULL);
    assert.equal((await busy).status, 'success');
    assert.equal(await service.canAccept(1), true);
  });

  it('cancels what runs: the result is failed with CANCELLED and the sandbox is gone', async () => {
    const running = service.execute({ language: 'bash', code: 'sleep 30' }, {});
    for (let i = 0; i < 200 && service.running === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    await new Promise((resolve) => setTimeout(resolve, 300));
    service.cancelAll();
    const result = await running;
    assert.equal(result.status, 'failed');
    assert.equal(result.error?.code, ErrorCodes.CANCELLED);
  });

  it('names the backend field when a request picks a backend it does not offer', async () => {
    await assert.rejects(
      service.execute({ language: 'python', code: 'print(1)' }, { backend: 'firecracker' }),
      (err: unknown) => err instanceof InvalidRequestError && err.field === 'backend' && /offered: bwrap/.test(err.message),
    );
  });

  it('refuses new work once it stops accepting', async () => {
    service.stopAccepting();
    assert.equal(service.closed, true);
    await assert.rejects(service.execute({ language: 'bash', code: 'true' }, {}), (err: RunnerError) => err.code === ErrorCodes.SHUTTING_DOWN);
  });
});
