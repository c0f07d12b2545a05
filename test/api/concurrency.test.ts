import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { get, post, testServer } from '../helpers/server.js';

describe('bounded concurrency', async () => {
  const { base, service } = await testServer({ concurrency: 2, queueLimit: 64 });

  it('runs 50 parallel requests through 2 slots with correct, uncrossed outputs', async () => {
    const tokens = Array.from({ length: 50 }, () => randomUUID());
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, service.running)), 2);
    const replies = await Promise.all(tokens.map((token) => post(base, '/api/v1/execute', { language: 'bash', code: `echo ${token}; sleep 0.05; echo ${token} >&2` })));
    clearInterval(sampler);
    replies.forEach((r, i) => {
      assert.equal(r.status, 200);
      assert.equal(r.body.stdout, `${tokens[i]}\n`);
      assert.equal(r.body.stderr, `${tokens[i]}\n`);
    });
    assert.ok(peak <= 2, `at most 2 ran at once (saw ${peak})`);
  });
});

describe('a full queue', async () => {
  const { base } = await testServer({ concurrency: 1, queueLimit: 2 });

  it('answers 429 with Retry-After, never a timeout or a 500', async () => {
    const replies = await Promise.all(Array.from({ length: 8 }, () => post(base, '/api/v1/execute', { language: 'bash', code: 'sleep 0.3; echo done' })));
    const statuses = replies.map((r) => r.status).sort();
    assert.ok(statuses.every((s) => s === 200 || s === 429), statuses.join(','));
    assert.ok(statuses.filter((s) => s === 200).length >= 3, statuses.join(','));
    assert.ok(statuses.includes(429), statuses.join(','));
    for (const r of replies) {
      if (r.status === 429) {
        assert.equal(r.body.error.code, 'RC_ERR_QUEUE_FULL');
        assert.equal(r.headers.get('retry-after'), '1');
      } else {
        assert.equal(r.body.stdout, 'done\n');
      }
    }
  });

  it('drops a queued request whose client went away, without running it', async () => {
    const executed = async (): Promise<number> => {
      const metrics = (await get(base, '/metrics')).text;
      return [...metrics.matchAll(/^runner_codes_executions_total\{language="bash",outcome="\w+"\} (\d+)/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
    };
    const before = await executed();
    const busy = post(base, '/api/v1/execute', { language: 'bash', code: 'sleep 0.5' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const controller = new AbortController();
    const queued = fetch(`${base}/api/v1/execute`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ language: 'bash', code: 'echo should-not-run' }),
      signal: controller.signal,
    }).catch((err: Error) => err.name);
    await new Promise((resolve) => setTimeout(resolve, 100));
    controller.abort();
    assert.equal(await queued, 'AbortError');
    assert.equal((await busy).status, 200);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(await executed(), before + 1, 'only the first request ran');
  });
});
