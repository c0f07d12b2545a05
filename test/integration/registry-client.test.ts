import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCodes } from '../../src/errors.js';
import { OCI_MANIFEST_MEDIA_TYPE } from '../../src/images/registry/artifact.js';
import { OciClient } from '../../src/images/registry/oci-client.js';
import { parseRemoteRef, type OciRef, type S3Ref, type Sha256Digest } from '../../src/images/registry/ref.js';
import { S3Client } from '../../src/images/registry/s3-client.js';
import { CuttingProxy } from '../helpers/cutting-proxy.js';
import { FakeS3 } from '../helpers/fake-s3.js';
import { TestRegistry } from '../helpers/oci-registry.js';

const work = mkdtempSync(join(tmpdir(), 'rc-registry-client-'));
after(() => rmSync(work, { recursive: true, force: true }));

function blobFile(name: string, size: number): { digest: Sha256Digest; size: number; path: string; bytes: Buffer } {
  const bytes = randomBytes(size);
  const path = join(work, name);
  writeFileSync(path, bytes);
  return { digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, size, path, bytes };
}

function oci(ref: string): OciRef {
  return parseRemoteRef(ref) as OciRef;
}

const code = (expected: string, message?: RegExp) => (err: Error & { code?: string }) => {
  assert.equal(err.code, expected, err.message);
  if (message) assert.match(err.message, message);
  return true;
};

describe('OCI client against a real docker-registry (no auth)', () => {
  let registry: TestRegistry;
  before(async () => {
    registry = await TestRegistry.start();
  });
  after(() => registry.close());

  it('uploads in chunks, skips a blob the registry has, mounts across repositories, puts and gets manifests', async () => {
    const client = new OciClient(oci(`${registry.host}/rc/lua:1`), { push: true, chunkSize: 64 * 1024 });
    const blob = blobFile('chunked', 200 * 1024 + 17);
    let sent = 0;
    assert.equal(await client.blobSize(blob.digest), null);
    assert.equal(await client.uploadBlob(blob, (n) => (sent += n)), 'uploaded');
    assert.equal(sent, blob.size);
    assert.equal(await client.blobSize(blob.digest), blob.size);
    assert.equal(await client.uploadBlob(blob, () => assert.fail('nothing is sent for a blob the registry has')), 'exists');

    const other = new OciClient(oci(`${registry.host}/rc/other:1`), { push: true });
    assert.equal(await other.uploadBlob(blob, () => assert.fail('a mount sends no bytes'), { mountFrom: 'rc/lua' }), 'mounted');
    assert.equal(await other.blobSize(blob.digest), blob.size);

    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST_MEDIA_TYPE, config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: blob.digest, size: blob.size }, layers: [] }));
    const digest = await client.putManifest('1', manifest, OCI_MANIFEST_MEDIA_TYPE);
    assert.equal(digest, `sha256:${createHash('sha256').update(manifest).digest('hex')}`);
    assert.deepEqual((await client.getManifest('1')).body, manifest);
    assert.deepEqual((await client.getManifest(digest)).body, manifest);
    await assert.rejects(client.getManifest('nope'), code(ErrorCodes.REGISTRY, /has no manifest rc\/lua:nope \(HTTP 404: MANIFEST_UNKNOWN/));
  });

  it('downloads with verification, resumes a partial file with Range, and refuses a corrupted blob', async () => {
    const client = new OciClient(oci(`${registry.host}/rc/dl:1`), { push: true });
    const blob = blobFile('to-download', 300 * 1024);
    await client.uploadBlob(blob, () => undefined);

    const whole = join(work, 'whole.partial');
    await client.downloadBlob({ digest: blob.digest, size: blob.size, path: whole }, () => undefined);
    assert.deepEqual(readFileSync(whole), blob.bytes);

    // An earlier run left the first 100 KiB: only the rest crosses the network.
    const partial = join(work, 'resumed.partial');
    writeFileSync(partial, blob.bytes.subarray(0, 100 * 1024));
    const deltas: number[] = [];
    await client.downloadBlob({ digest: blob.digest, size: blob.size, path: partial }, (n) => deltas.push(n));
    assert.deepEqual(readFileSync(partial), blob.bytes);
    assert.equal(deltas[0], 100 * 1024, 'the bytes already there count first');
    assert.equal(deltas.slice(1).reduce((a, b) => a + b, 0), 200 * 1024, 'only the missing bytes were fetched');

    // Flip one byte in the registry's own storage: same size, different digest.
    const data = registry.blobDataPath(blob.digest);
    const stored = readFileSync(data);
    stored[1234] = stored[1234]! ^ 0xff;
    writeFileSync(data, stored);
    const corrupt = join(work, 'corrupt.partial');
    await assert.rejects(client.downloadBlob({ digest: blob.digest, size: blob.size, path: corrupt }, () => undefined), code(ErrorCodes.IMAGE_DIGEST, /remote copy is corrupted/));
    assert.equal(existsSync(corrupt), false, 'the corrupted download is removed');
  });

  it('resumes a blob whose connection is cut mid-transfer (a proxy drops it after 200 KiB)', async () => {
    const blob = blobFile('cut', 512 * 1024);
    await new OciClient(oci(`${registry.host}/rc/cut:1`), { push: true }).uploadBlob(blob, () => undefined);
    const proxy = await CuttingProxy.start(registry.port, { cuts: 1, afterBytes: 200 * 1024 });
    const client = new OciClient(oci(`127.0.0.1:${proxy.port}/rc/cut:1`));
    const path = join(work, 'cut.partial');
    after(() => proxy.stop());
    await client.downloadBlob({ digest: blob.digest, size: blob.size, path }, () => undefined);
    assert.deepEqual(readFileSync(path), blob.bytes);
    const gets = proxy.requests.filter((r) => r.startsWith('GET '));
    assert.equal(gets.length, 2, gets.join('\n---\n'));
    assert.match(gets[1]!, /\r\nrange: bytes=[1-9]\d*-/i, 'the second GET resumes with Range');
  });

  it('says clearly when the registry is down', async () => {
    const client = new OciClient(oci(`127.0.0.1:1/rc/none:1`));
    await assert.rejects(client.blobSize(`sha256:${'0'.repeat(64)}`), code(ErrorCodes.REGISTRY, /is unreachable \(ECONNREFUSED\)/));
  });
});

describe('OCI client, basic auth (htpasswd with bcrypt hashes)', () => {
  let registry: TestRegistry;
  before(async () => {
    registry = await TestRegistry.start({ kind: 'basic', users: [{ username: 'alice', password: 's3cret' }] });
  });
  after(() => registry.close());

  it('pushes and pulls with the right password; names the fix without one or with a wrong one', async () => {
    const ref = oci(`${registry.host}/rc/basic:1`);
    const blob = blobFile('basic', 10_000);
    await assert.rejects(new OciClient(ref, { push: true }).uploadBlob(blob, () => undefined), code(ErrorCodes.REGISTRY_AUTH, /wants a username and password/));
    await assert.rejects(
      new OciClient(ref, { push: true, credentials: { username: 'alice', password: 'wrong' } }).uploadBlob(blob, () => undefined),
      code(ErrorCodes.REGISTRY_AUTH, /refused blob .* \(HTTP 401/),
    );
    const client = new OciClient(ref, { push: true, credentials: { username: 'alice', password: 's3cret' } });
    assert.equal(await client.uploadBlob(blob, () => undefined), 'uploaded');
    const path = join(work, 'basic.partial');
    await new OciClient(ref, { credentials: { username: 'alice', password: 's3cret' } }).downloadBlob({ ...blob, path }, () => undefined);
    assert.deepEqual(readFileSync(path), blob.bytes);
  });
});

describe('OCI client, bearer tokens (registry token auth verifying JWTs from a token server of the test)', () => {
  let registry: TestRegistry;
  before(async () => {
    registry = await TestRegistry.start({
      kind: 'token',
      users: [
        { username: 'pusher', password: 'p1' },
        { username: 'reader', password: 'r1', actions: ['pull'] },
      ],
    });
  });
  after(() => registry.close());

  it('gets a token from the realm of the challenge, with the scope it needs', async () => {
    const ref = oci(`${registry.host}/rc/bearer:1`);
    const blob = blobFile('bearer', 70_000);
    const pusher = new OciClient(ref, { push: true, credentials: { username: 'pusher', password: 'p1' }, chunkSize: 32 * 1024 });
    assert.equal(await pusher.uploadBlob(blob, () => undefined), 'uploaded');
    assert.ok(registry.tokenServer!.issued >= 1);

    const path = join(work, 'bearer.partial');
    await new OciClient(ref, { credentials: { username: 'reader', password: 'r1' } }).downloadBlob({ ...blob, path }, () => undefined);
    assert.deepEqual(readFileSync(path), blob.bytes);

    // The token server grants `reader` pull only: the registry refuses its push.
    const other = blobFile('bearer-2', 1000);
    await assert.rejects(new OciClient(ref, { push: true, credentials: { username: 'reader', password: 'r1' } }).uploadBlob(other, () => undefined), code(ErrorCodes.REGISTRY_AUTH));
    await assert.rejects(new OciClient(ref, { credentials: { username: 'reader', password: 'nope' } }).blobSize(blob.digest), code(ErrorCodes.REGISTRY_AUTH, /token endpoint .* refused user 'reader'/));
  });
});

describe('S3 client against s3rver (a FAKE S3 server from npm)', () => {
  let s3: FakeS3;
  before(async () => {
    s3 = await FakeS3.start();
  });
  after(() => s3.close());

  it('puts small blobs in one request and large ones as a multipart upload; skips existing; verifies downloads', async () => {
    const ref = parseRemoteRef(`s3://${s3.bucket}/fleet/lua:1`) as S3Ref;
    const client = new S3Client(ref, { partSize: 5 * 1024 * 1024 }, s3.env);
    const small = blobFile('s3-small', 100_000);
    const large = blobFile('s3-large', 11 * 1024 * 1024 + 5);
    for (const blob of [small, large]) {
      let sent = 0;
      assert.equal(await client.blobSize(blob.digest), null);
      assert.equal(await client.uploadBlob(blob, (n) => (sent += n)), 'uploaded');
      assert.equal(sent, blob.size);
      assert.equal(await client.blobSize(blob.digest), blob.size);
      assert.equal(await client.uploadBlob(blob, () => assert.fail('not sent twice')), 'exists');
      const path = join(work, `${blob.size}.s3.partial`);
      writeFileSync(path, blob.bytes.subarray(0, 4096));
      await client.downloadBlob({ ...blob, path }, () => undefined);
      assert.ok(readFileSync(path).equals(blob.bytes));
    }
    assert.ok(existsSync(s3.objectPath(`fleet/blobs/sha256/${large.digest.slice(7)}`)));

    const manifest = Buffer.from('{"schemaVersion":2}');
    const digest = await client.putManifest('1', manifest, OCI_MANIFEST_MEDIA_TYPE);
    assert.deepEqual((await client.getManifest('1')).body, manifest);
    assert.deepEqual((await client.getManifest(digest)).body, manifest);
    await assert.rejects(client.getManifest('2'), code(ErrorCodes.REGISTRY, /has no manifest lua\/2/));

    const objectPath = s3.objectPath(`fleet/blobs/sha256/${small.digest.slice(7)}`);
    const stored = readFileSync(objectPath);
    stored[10] = stored[10]! ^ 0xff;
    writeFileSync(objectPath, stored);
    const corrupt = join(work, 'corrupt.s3.partial');
    await assert.rejects(client.downloadBlob({ ...small, path: corrupt }, () => undefined), code(ErrorCodes.IMAGE_DIGEST));
    assert.equal(existsSync(corrupt), false);
  });

  it('names the fix for wrong keys and refuses plain HTTP off loopback', async () => {
    const ref = parseRemoteRef(`s3://${s3.bucket}/lua:1`) as S3Ref;
    const client = new S3Client(ref, {}, { ...s3.env, AWS_ACCESS_KEY_ID: 'nobody' });
    await assert.rejects(client.putManifest('1', Buffer.from('{}'), OCI_MANIFEST_MEDIA_TYPE), code(ErrorCodes.REGISTRY_AUTH, /InvalidAccessKeyId/));
    assert.throws(() => new S3Client(ref, {}, { ...s3.env, RUNNER_CODES_S3_ENDPOINT: 'http://s3.example.com' }), code(ErrorCodes.INVALID_REQUEST, /must be https/));
  });
});
