import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/config/paths.js';
import { ErrorCodes, InvalidRequestError, RunnerError } from '../../src/errors.js';
import { WORKER_OPTIONS } from '../../src/cli/commands/worker.js';
import { QUEUE_OPTIONS } from '../../src/api/config.js';
import { redisOptionsOf } from '../../src/queue/redis-url.js';
import { errorOfFailedReason, failedReasonOf } from '../../src/queue/job-data.js';
import { profileQueueName } from '../../src/queue/queue-keys.js';
import { isConnectionError } from '../../src/queue/redis-connections.js';

describe('queue options', () => {
  it('a Redis that is back but still loading its append-only file counts as unavailable (503), not as a bug (500)', () => {
    for (const message of ['LOADING Redis is loading the dataset in memory', 'EXECABORT Transaction discarded because of previous errors.', 'Connection is closed.', 'Command aborted due to connection close', "Stream isn't writeable and enableOfflineQueue options is false"]) {
      assert.equal(isConnectionError(new Error(message)), true, message);
    }
    for (const message of ['ERR unknown command', 'WRONGTYPE Operation against a key holding the wrong kind of value']) assert.equal(isConnectionError(new Error(message)), false, message);
  });

  it('docs/queue.md documents every queue option of api and every worker option of its own', () => {
    const doc = readFileSync(join(packageRoot, 'docs', 'queue.md'), 'utf8');
    const shared = new Set(['queue', 'queuePrefix']);
    for (const o of [...QUEUE_OPTIONS, ...WORKER_OPTIONS.filter((w) => !QUEUE_OPTIONS.some((q) => q.key === w.key) && (shared.has(w.key) || !['backend', 'allowedBackends', 'firecrackerJailer'].includes(w.key) && !w.key.startsWith('pool') && !w.key.startsWith('max')))]) {
      assert.ok(doc.includes(`| \`${o.flag}\` | \`${o.env}\` | \`${o.file}\` |`), o.flag);
    }
  });

  it('a Redis URL becomes ioredis options; a bad one names --queue and the form, never echoing the URL', () => {
    assert.deepEqual(redisOptionsOf('redis://u:p%40ss@10.0.0.5:6380/2'), { host: '10.0.0.5', port: 6380, db: 2, username: 'u', password: 'p@ss' });
    assert.deepEqual(redisOptionsOf('redis://localhost'), { host: 'localhost', port: 6379 });
    for (const bad of ['no url', 'http://x:secret@h:1', 'redis://:secret@h:1/x', 'redis://h:1/?password=secret']) {
      assert.throws(() => redisOptionsOf(bad), (err: RunnerError) => err.code === ErrorCodes.CONFIG && err.message.startsWith('--queue: ') && !err.message.includes('secret'), bad);
    }
  });

  it('a worker error survives the trip through BullMQ failedReason, field included; a double stall is WORKER_LOST', () => {
    const back = errorOfFailedReason(failedReasonOf(new InvalidRequestError('files[0].name', 'must not contain ..')));
    assert.ok(back instanceof InvalidRequestError);
    assert.equal(back.field, 'files[0].name');
    assert.equal(back.message, 'files[0].name: must not contain ..');
    assert.equal(errorOfFailedReason(failedReasonOf(new RunnerError(ErrorCodes.IMAGE_MISSING, "image for 'ruby' is not built"))).code, ErrorCodes.IMAGE_MISSING);
    assert.equal(errorOfFailedReason('job stalled more than allowable limit').code, ErrorCodes.WORKER_LOST);
    assert.equal(errorOfFailedReason('something odd').code, ErrorCodes.INTERNAL);
  });

  it('the profile queue depends on the set of capabilities and the default backend, not their order', () => {
    const a = profileQueueName('bwrap', ['bwrap:python', 'qemu:python']);
    assert.match(a, /^exec-[0-9a-f]{12}$/);
    assert.equal(profileQueueName('bwrap', ['qemu:python', 'bwrap:python']), a);
    assert.notEqual(profileQueueName('qemu', ['bwrap:python', 'qemu:python']), a);
    assert.notEqual(profileQueueName('bwrap', ['bwrap:python']), a);
  });
});
