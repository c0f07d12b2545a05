import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { get, post, testServer } from '../helpers/server.js';

const { base } = await testServer({ apiKeys: ['key-one', 'key-two'], rateLimit: 5 });
const job = { language: 'bash', code: 'echo ok' };

describe('API keys', () => {
  it('refuses a request without a key: 401 E004', async () => {
    const r = await post(base, '/api/v1/execute', job);
    assert.equal(r.status, 401);
    assert.equal(r.body.error.code, 'RC_ERR_API_KEY_MISSING');
    assert.equal(r.body.error.legacy_code, 'E004');
    const run = await post(base, '/api/v1/run', { language: 'bash', files: [{ name: 'a.sh', content: 'true' }] });
    assert.deepEqual([run.status, run.body.code], [401, 'E004']);
  });

  it('refuses a wrong key: 401 E003', async () => {
    const r = await post(base, '/api/v1/execute', job, { authorization: 'Bearer nope' });
    assert.equal(r.status, 401);
    assert.equal(r.body.error.legacy_code, 'E003');
  });

  it('accepts a key as Bearer token or X-API-Key', async () => {
    assert.equal((await post(base, '/api/v1/execute', job, { authorization: 'Bearer key-one' })).body.stdout, 'ok\n');
    assert.equal((await post(base, '/api/v1/execute', job, { 'x-api-key': 'key-two' })).body.stdout, 'ok\n');
  });

  it('leaves health open', async () => {
    assert.equal((await get(base, '/health')).status, 200);
  });
});

describe('per-key rate limit', () => {
  it('answers 429 E002 with Retry-After past the limit, per key', async () => {
    const statuses: number[] = [];
    let limited;
    for (let i = 0; i < 6; i++) {
      const r = await get(base, '/api/v1/languages', { authorization: 'Bearer key-one' });
      statuses.push(r.status);
      if (r.status === 429) limited = r;
    }
    // key-one made 2 requests above already; its 5-per-minute budget runs out within these 6.
    assert.ok(statuses.includes(429), statuses.join(','));
    assert.equal(limited!.body.error.code, 'RC_ERR_RATE_LIMITED');
    assert.equal(limited!.body.error.legacy_code, 'E002');
    assert.match(limited!.headers.get('retry-after') ?? '', /^\d+$/);
    const other = await get(base, '/api/v1/languages', { 'x-api-key': 'key-two' });
    assert.equal(other.status, 200, 'another key has its own budget');
  });
});
