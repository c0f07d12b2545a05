import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCodes } from '../../src/errors.js';
import { formatRemoteRef, isLoopbackHost, parseRemoteRef } from '../../src/images/registry/ref.js';
import { parseChallenge } from '../../src/images/registry/oci-auth.js';

const DIGEST = `sha256:${'ab'.repeat(32)}`;

describe('image references', () => {
  it('parses registry references: host, port, nested repository, tag, digest', () => {
    assert.deepEqual(parseRemoteRef('127.0.0.1:5000/runner/python:3.11'), { kind: 'oci', registry: '127.0.0.1:5000', repository: 'runner/python', tag: '3.11', scheme: 'http' });
    assert.deepEqual(parseRemoteRef(`registry.example.com/team/lua@${DIGEST}`), { kind: 'oci', registry: 'registry.example.com', repository: 'team/lua', tag: 'latest', digest: DIGEST, scheme: 'https' });
    const both = parseRemoteRef(`localhost:5000/lua:v1@${DIGEST}`);
    assert.equal(both.tag, 'v1');
    assert.equal(both.digest, DIGEST);
    assert.equal(parseRemoteRef('[::1]:5000/lua').kind === 'oci' && (parseRemoteRef('[::1]:5000/lua') as { scheme: string }).scheme, 'http');
  });

  it('uses plain HTTP for loopback registries only', () => {
    for (const host of ['127.0.0.1:5000', 'localhost:5000', '127.8.9.10', '[::1]:5000']) assert.equal((parseRemoteRef(`${host}/a:b`) as { scheme: string }).scheme, 'http', host);
    for (const host of ['10.0.0.1:5000', 'registry.local:5000', '192.168.1.2', 'localhost.example.com', '[fe80::1]:5000']) assert.equal((parseRemoteRef(`${host}/a:b`) as { scheme: string }).scheme, 'https', host);
    assert.equal(isLoopbackHost('127.0.0.1'), true);
    assert.equal(isLoopbackHost('128.0.0.1'), false);
  });

  it('parses s3://bucket/prefix/repository:tag', () => {
    assert.deepEqual(parseRemoteRef('s3://rc-images/fleet/prod/python:3.11'), { kind: 's3', bucket: 'rc-images', prefix: 'fleet/prod', repository: 'python', tag: '3.11' });
    assert.deepEqual(parseRemoteRef('s3://rc-images/lua'), { kind: 's3', bucket: 'rc-images', prefix: '', repository: 'lua', tag: 'latest' });
    assert.equal(formatRemoteRef(parseRemoteRef(`s3://rc-images/a/lua:1@${DIGEST}`)), `s3://rc-images/a/lua:1@${DIGEST}`);
    assert.equal(formatRemoteRef(parseRemoteRef('127.0.0.1:5000/x/lua:2')), '127.0.0.1:5000/x/lua:2');
  });

  it('refuses malformed references with a message naming the fix', () => {
    const cases: [string, RegExp][] = [
      ['python:3.11', /name the registry host first/],
      ['https://127.0.0.1:5000/lua:1', /without a scheme/],
      ['127.0.0.1:5000/Lua:1', /'Lua' is not a repository name component/],
      ['127.0.0.1:5000/lua:-bad', /is not a tag/],
      ['127.0.0.1:5000/lua@sha256:abc', /write sha256: and 64 lower-case hex digits/],
      ['127.0.0.1:99999/lua', /port 99999 is out of range/],
      ['s3://UPPER/lua', /not an S3 bucket name/],
      ['s3://bucket', /name the image after the bucket/],
      ['s3://bucket/a/../lua', /'\.\.' component/],
      ['127.0.0.1:5000/../lua', /not a repository name component/],
      ['', /1 to 1024 characters/],
      ['127.0.0.1:5000/lua tag', /white space/],
    ];
    for (const [input, why] of cases) {
      assert.throws(() => parseRemoteRef(input), (err: Error & { code?: string; field?: string }) => {
        assert.equal(err.code, ErrorCodes.INVALID_REQUEST, input);
        assert.equal(err.field, 'ref');
        assert.match(err.message, why, input);
        return true;
      });
    }
  });
});

describe('WWW-Authenticate challenges', () => {
  it('parses Bearer and Basic challenges', () => {
    assert.deepEqual(parseChallenge('Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull,push"'), {
      scheme: 'bearer',
      params: { realm: 'https://auth.example.com/token', service: 'registry.example.com', scope: 'repository:a/b:pull,push' },
    });
    assert.deepEqual(parseChallenge('Basic realm="rc-test"'), { scheme: 'basic', params: { realm: 'rc-test' } });
    assert.equal(parseChallenge(''), null);
  });
});
