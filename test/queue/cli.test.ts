import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { freePort } from '../helpers/redis-server.js';
import { QueueProcess } from '../helpers/queue-processes.js';

/* Bad queue settings: a clear CLI message naming the fix, no stack trace, the password never printed. */
describe('--queue mistakes', () => {
  for (const [name, url, message] of [
    ['not a URL', 'no url here', /--queue: is not a URL \(expected redis:\/\/\[user:pass@\]host:port\[\/db\]\)/],
    ['another scheme', 'http://user:s3cret@127.0.0.1:1/', /--queue: the scheme must be redis:\/\/ or rediss:\/\//],
    ['a database that is not a number', 'redis://:s3cret@127.0.0.1:1/abc', /--queue: the database must be a number/],
  ] as const) {
    for (const command of ['api', 'worker']) {
      it(`${command} --queue with ${name}: exit 2 naming --queue and the form`, async () => {
        const { code, output } = await QueueProcess.run([command, '--queue', url, ...(command === 'api' ? ['--port', '0'] : [])]);
        assert.equal(code, 2, output);
        assert.match(output, message);
        assert.doesNotMatch(output, /s3cret/);
        assert.doesNotMatch(output, /\n\s+at /, 'no stack trace');
      });
    }
  }

  it('a Redis nobody listens on: the start fails naming host:port, never the password', async () => {
    const port = await freePort();
    for (const command of ['api', 'worker']) {
      const { code, output } = await QueueProcess.run([command, '--queue', `redis://:s3cret@127.0.0.1:${port}`, ...(command === 'api' ? ['--port', '0'] : [])]);
      assert.equal(code, 2, output);
      assert.match(output, new RegExp(`cannot reach Redis at 127\\.0\\.0\\.1:${port}`));
      assert.doesNotMatch(output, /s3cret/);
    }
  });

  it('worker without --queue: says it is required', async () => {
    const { code, output } = await QueueProcess.run(['worker'], { RUNNER_CODES_QUEUE: '' });
    assert.equal(code, 2, output);
    assert.match(output, /--queue is required/);
  });

  it('worker --languages with an unknown language: names it', async () => {
    const { code, output } = await QueueProcess.run(['worker', '--queue', 'redis://127.0.0.1:1', '--languages', 'klingon']);
    assert.equal(code, 2, output);
    assert.match(output, /--languages: unknown language 'klingon'/);
  });
});
