import { it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { packageRoot } from '../../src/config/paths.js';
import { NOTHING_LEFT, leftovers } from '../helpers/host.js';
import { post } from '../helpers/server.js';

it('SIGTERM: finishes short executions, cancels long and queued ones, leaves nothing, exits 0', async () => {
  const server = spawn(process.execPath, [join(packageRoot, 'dist/src/cli/index.js'), 'api', '--backend', 'bwrap', '--port', '0', '--concurrency', '3', '--shutdown-grace', '1500', '--log-level', 'info'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
  const base = await new Promise<string>((resolve, reject) => {
    createInterface({ input: server.stdout! }).on('line', (line) => {
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(line);
      if (match) resolve(match[1]!);
    });
    server.once('exit', () => reject(new Error('server exited before listening')));
  });

  const short = [1, 2].map(() => post(base, '/api/v1/execute', { language: 'bash', code: 'sleep 0.5; echo finished' }));
  const long = post(base, '/api/v1/execute', { language: 'bash', code: 'sleep 30', timeout: 60000 });
  await new Promise((resolve) => setTimeout(resolve, 100));
  const queued = post(base, '/api/v1/execute', { language: 'bash', code: 'echo never' });
  await new Promise((resolve) => setTimeout(resolve, 100));
  const started = Date.now();
  server.kill('SIGTERM');

  for (const reply of await Promise.all(short)) {
    assert.equal(reply.status, 200);
    assert.equal(reply.body.stdout, 'finished\n');
  }
  const cancelled = await long;
  assert.equal(cancelled.status, 503, JSON.stringify(cancelled.body));
  assert.equal(cancelled.body.status, 'failed', JSON.stringify(cancelled.body));
  assert.equal(cancelled.body.error.code, 'RC_ERR_CANCELLED');
  const refused = await queued;
  assert.equal(refused.status, 503);
  assert.equal(refused.body.error.code, 'RC_ERR_SHUTTING_DOWN');
  assert.equal(refused.headers.get('retry-after'), '5');
  assert.equal(await exited, 0);
  assert.ok(Date.now() - started < 5000, 'shut down within the grace period plus clean-up');
  await assert.rejects(fetch(`${base}/health`), 'no longer listening');
  assert.deepEqual(leftovers(), NOTHING_LEFT);
});
