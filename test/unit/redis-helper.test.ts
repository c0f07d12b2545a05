import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { TestRedis } from '../helpers/redis-server.js';

test('the test Redis keeps its data across a restart (append-only file)', async () => {
  const redis = await TestRedis.start();
  const client = new Redis(redis.url, { maxRetriesPerRequest: null });
  try {
    await client.set('rc:probe', 'kept');
    await redis.restart(100);
    assert.equal(await client.get('rc:probe'), 'kept');
  } finally {
    client.disconnect();
  }
});
