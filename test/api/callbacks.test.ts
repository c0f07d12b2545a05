import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { isForbiddenAddress, resolveCallbackAddress } from '../../src/engine/submissions/callback-address.js';
import { deliverCallback } from '../../src/engine/submissions/callback-delivery.js';
import { DEFAULT_CALLBACK_SETTINGS } from '../../src/engine/submissions/submission-settings.js';
import { CallbackReceiver } from '../helpers/callback-receiver.js';
import { post, testServer } from '../helpers/server.js';

/**
 * Callbacks from a real server on loopback (real sandboxes) to a real HTTP receiver on 127.0.0.1:
 * the signature the receiver checks, retries with exponential backoff, giving up after
 * callback_attempts, and hosts off the allowlist never called.
 */
const SECRET = 'callback-secret-for-tests';
const hook = await CallbackReceiver.start();
const other = await CallbackReceiver.start();
const server = await testServer({ poolSize: 0, callbackAllowlist: [`127.0.0.1:${hook.port}`], callbackSecret: SECRET, callbackAttempts: 3 });
const url = `http://127.0.0.1:${hook.port}/hook?x=1`;

async function submit(body: object): Promise<string> {
  const reply = await post(server.base, '/api/v1/submissions', body);
  assert.equal(reply.status, 201, JSON.stringify(reply.body));
  return reply.body.token;
}

describe('a callback', () => {
  it('POSTs the record, signed: HMAC-SHA256 of "<timestamp>.<body>" with callback_secret, which the receiver verifies', async () => {
    const token = await submit({ language: 'python', code: 'print(input())', stdin: 'called back', expected_output: 'called back', callback_url: url });
    const [delivery] = await hook.deliveriesOf(token, 1);
    const { headers, body } = delivery!;
    assert.equal(headers['content-type'], 'application/json');
    assert.equal(headers['x-runner-codes-token'], token);
    const timestamp = String(headers['x-runner-codes-timestamp']);
    assert.ok(Math.abs(Number(timestamp) - Date.now() / 1000) < 60, 'a current Unix timestamp');
    // The receiver's own check, written from the documented rule (not with our signing code).
    const expected = `sha256=${createHmac('sha256', SECRET).update(`${timestamp}.${body}`).digest('hex')}`;
    assert.equal(headers['x-runner-codes-signature'], expected);
    const forged = `sha256=${createHmac('sha256', 'another-secret').update(`${timestamp}.${body}`).digest('hex')}`;
    assert.notEqual(headers['x-runner-codes-signature'], forged);
    const record = JSON.parse(body);
    assert.equal(record.token, token);
    assert.equal(record.status, 'done');
    assert.equal(record.result.stdout, 'called back\n');
    assert.equal(record.result.verdict, 'accepted');
    assert.deepEqual(record.judge0_status, { id: 3, description: 'Accepted' });
    // The body is the GET record.
    const got = await fetch(`${server.base}/api/v1/submissions/${token}`);
    assert.deepEqual(await got.json(), record);
  });

  it('is retried with exponential backoff while the receiver answers 500, until a 2xx', async () => {
    const token = await submit({ language: 'python', code: 'print(2)', callback_url: url });
    hook.script.set(token, [500, 503]);
    const deliveries = await hook.deliveriesOf(token, 3);
    const gaps = [deliveries[1]!.at - deliveries[0]!.at, deliveries[2]!.at - deliveries[1]!.at];
    assert.ok(gaps[0]! >= 900 && gaps[0]! < 1900, `first backoff ~1 s: ${gaps[0]} ms`);
    assert.ok(gaps[1]! >= 1900 && gaps[1]! < 3500, `second backoff ~2 s: ${gaps[1]} ms`);
    assert.equal(new Set(deliveries.map((d) => d.body)).size, 1, 'the same record each time');
    await sleep(2500);
    assert.equal(hook.deliveries.get(token)!.length, 3, 'nothing after the 2xx');
  });

  it('is given up after callback_attempts failures', async () => {
    const token = await submit({ language: 'python', code: 'print(3)', callback_url: url });
    hook.script.set(token, [500, 500, 500, 500, 500, 500]);
    await hook.deliveriesOf(token, 3);
    await sleep(5000);
    assert.equal(hook.deliveries.get(token)!.length, 3, 'callback_attempts is 3');
  });

  it('never calls a host (or port) off the allowlist: refused at submit, nothing delivered', async () => {
    const before = other.all.length;
    for (const target of [`http://127.0.0.1:${other.port}/hook`, `http://localhost:${hook.port}/hook`]) {
      const reply = await post(server.base, '/api/v1/submissions', { language: 'python', code: 'print(4)', callback_url: target });
      assert.equal(reply.status, 400, target);
      assert.equal(reply.body.error.field, 'callback_url');
    }
    await sleep(1000);
    assert.equal(other.all.length, before, 'the other receiver was never called');
  });
});

describe('delivery checks', () => {
  const record = { token: 't', status: 'done' as const, judge0_status: { id: 3, description: 'Accepted' }, created_at: new Date().toISOString() };
  const settings = { ...DEFAULT_CALLBACK_SETTINGS, secret: 's', allowlist: [`127.0.0.1:${other.port}`] };

  it('re-checks the allowlist at delivery: a URL off it is refused without a connection', async () => {
    const before = hook.all.length;
    await assert.rejects(deliverCallback(record, url, settings), { name: 'CallbackRefusedError' });
    assert.equal(hook.all.length, before);
    await deliverCallback(record, `http://127.0.0.1:${other.port}/`, settings);
    assert.equal(other.all.at(-1)?.headers['x-runner-codes-token'], 't');
  });

  it('refuses metadata, link-local and unspecified addresses, however they are written', async () => {
    for (const address of ['169.254.169.254', '169.254.0.1', '0.0.0.0', '100.100.100.200', '::', 'fe80::1', 'fd00:ec2::254', '::ffff:169.254.169.254']) {
      assert.equal(isForbiddenAddress(address), true, address);
      await assert.rejects(resolveCallbackAddress(address.includes(':') ? `[${address}]` : address), { name: 'CallbackRefusedError' }, address);
    }
    for (const address of ['127.0.0.1', '::1', '10.0.0.1', '192.168.1.1']) assert.equal(isForbiddenAddress(address), false, address);
    // A name is resolved at delivery and every address it has is checked.
    assert.deepEqual(await resolveCallbackAddress('localhost').then((a) => ['127.0.0.1', '::1'].includes(a.address)), true);
  });
});
