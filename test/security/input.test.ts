import { describe, it } from 'node:test';
import { connect } from 'node:net';
import assert from 'node:assert/strict';
import { openCgroupDriver } from '../../src/sandbox/cgroup/detect.js';
import { ownerOf } from '../../src/sandbox/names.js';
import { hasUnsafeChars } from '../../src/safe-text.js';
import { MARKER, securityServer } from '../helpers/hostile.js';

/**
 * Hostile input: path traversal and archive-style names, very long and unicode names, huge stdin,
 * code and file counts, oversized bodies, and text made to forge log lines. Bad input is a 4xx
 * naming the field, and no sandbox is started for it (host evidence: no cgroup of this process
 * appears; the pool is off here so that any cgroup would be one a request started).
 */

const MiB = 1024 * 1024;

/** Sends `request` as raw bytes and returns the reply's status line and headers. */
function rawHttp(base: string, request: string): Promise<string> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    let reply = '';
    const socket = connect({ host: hostname, port: Number(port) }, () => socket.end(request));
    socket.on('data', (chunk) => (reply += chunk.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve(reply.split('\r\n\r\n')[0] ?? ''));
  });
}

function cgroupsOfThisProcess(): string[] {
  return openCgroupDriver().list().filter((name) => ownerOf(name) === process.pid);
}

/** Cgroups of this process that exist now and did not before (an earlier run's may still be going away). */
function newCgroups(before: string[]): string[] {
  return cgroupsOfThisProcess().filter((name) => !before.includes(name));
}

const TRAVERSAL = [
  '../x.py', '../../../../etc/cron.d/x', '/etc/passwd', 'a/../../x.py', '..', '.', './x.py', 'a//b.py', 'a/./b.py', 'a\\..\\..\\x.py',
  `evil.tar/../../${MARKER}`, 'x\0.py', 'x'.repeat(256), `${'d/'.repeat(128)}x`, '-rf', 'a/--help', '\u001b]0;pwned\u0007.py',
  'x\u202egp.exe', 'line\nbreak.py', 'a\u0085b.py', '',
];

describe('hostile input', async () => {
  const server = await securityServer({ poolSize: 0, maxCodeBytes: 4 * MiB, maxStdinBytes: MiB, bodyLimit: 8 * MiB });

  it('path traversal, absolute, archive-style, control-character and over-long names: 400 naming the file, no sandbox', async () => {
    const before = cgroupsOfThisProcess();
    for (const name of TRAVERSAL) {
      const reply = await server.send({ language: 'python', files: [{ name: 'main.py', content: 'print(1)' }, { name, content: 'print(2)' }] });
      assert.equal(reply.status, 400, `${JSON.stringify(name)}: ${reply.status}`);
      assert.equal(reply.body.error.field, 'files[1].name', JSON.stringify(name));
      assert.equal(reply.body.error.code, 'RC_ERR_INVALID_REQUEST');
    }
    const clash = await server.send({ language: 'python', files: [{ name: 'a', content: 'x' }, { name: 'a/b.py', content: 'print(1)' }], entry: 'a/b.py' });
    assert.equal(clash.status, 400);
    assert.equal(clash.body.error.field, 'files[0].name');
    assert.deepEqual(newCgroups(before), [], 'a sandbox was started for bad input');
  });

  it('unicode, 255-byte and deep names are written inside the sandbox only', async () => {
    const long = `${MARKER}${'l'.repeat(255 - MARKER.length - 3)}.py`;
    const deep = `${'d/'.repeat(100)}${MARKER}.py`;
    const files = [
      { name: 'main.py', content: 'import os\nfor root, _, names in os.walk("."):\n    for n in names: print(os.path.join(root, n))\n' },
      { name: `${MARKER}-ünïcødé/日本語 $(id);rm -rf ~.py`, content: '' },
      { name: long, content: '' },
      { name: deep, content: '' },
    ];
    const result = await server.attack({ language: 'python', files });
    const listed = result.stdout.trim().split('\n').sort();
    assert.deepEqual(listed, files.map((f) => `./${f.name}`).sort());
    // The host-side marker scan (after the file) proves none of these names exists on the host.
  });

  it('huge stdin, code, file counts, argument and environment counts: 4xx naming the field, no sandbox', async () => {
    const before = cgroupsOfThisProcess();
    const cases: [unknown, number, string][] = [
      [{ language: 'python', code: 'print(1)', stdin: 'x'.repeat(MiB + 1) }, 413, 'stdin'],
      [{ language: 'python', code: `# ${'x'.repeat(4 * MiB)}` }, 413, 'code'],
      [{ language: 'python', files: Array.from({ length: 257 }, (_, i) => ({ name: `f${i}.py`, content: 'x' })) }, 400, 'files'],
      [{ language: 'python', code: 'print(1)', args: Array.from({ length: 257 }, () => 'a') }, 400, 'args'],
      [{ language: 'python', code: 'print(1)', env: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`V${i}`, 'x'])) }, 400, 'env'],
      [{ language: 'python', code: 'print(1)', env: { 'A\u001b[2J': 'x' } }, 400, 'env.A\\u001b[2J'],
      [{ language: 'python', code: 'print(1)', timeout: 10 ** 9 }, 400, 'timeout'],
      [{ language: 'python', code: 'print(1)', memory: 10 ** 6 }, 400, 'memory'],
      [{ language: 'python', code: 'print(1)', pids: 10 ** 6 }, 400, 'pids'],
    ];
    for (const [body, status, field] of cases) {
      const reply = await server.send(body);
      assert.equal(reply.status, status, `${field}: HTTP ${reply.status} ${JSON.stringify(reply.body)}`);
      assert.equal(reply.body.error.field, field);
    }
    const huge = await server.send(JSON.stringify({ language: 'python', code: 'x'.repeat(9 * MiB) }));
    assert.equal(huge.status, 413, 'a body over the body limit');
    assert.deepEqual(newCgroups(before), [], 'a sandbox was started for bad input');
  });

  it('256 files, the most allowed, run', async () => {
    const files = [{ name: 'main.py', content: 'import os\nprint(len(os.listdir(".")))\n' }, ...Array.from({ length: 255 }, (_, i) => ({ name: `f${i}.txt`, content: 'x' }))];
    const result = await server.attack({ language: 'python', files });
    assert.equal(result.stdout, '256\n');
  });

  it('trace ids, file names, language names and URLs cannot forge or colour log lines', async () => {
    const evil = '\u001b[2J\u001b]0;pwned\u0007\u009b31m\u202e\nFAKE {"level":50}';
    // fetch refuses to send control characters in a header: speak HTTP on a raw socket.
    const body = JSON.stringify({ language: evil, code: 'x' });
    const head = await rawHttp(server.base, `POST /api/v1/execute HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nx-trace-id: ok\u001b[31m${MARKER}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    assert.match(head, /^HTTP\/1\.1 400 /);
    assert.doesNotMatch(head, new RegExp(`x-trace-id: ok.*${MARKER}`, 'i'), 'the trace id was echoed');
    const plain = await fetch(`${server.base}/api/v1/execute`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-trace-id': `${'x'.repeat(65)}` }, body });
    assert.match(plain.headers.get('x-trace-id') ?? '', /^[0-9a-f-]{36}$/, 'an over-long trace id is replaced');
    await server.send({ language: 'python', files: [{ name: 'main.py', content: 'print(1)' }, { name: 'main.py', content: evil }], entry: evil });
    await server.send({ language: 'python', code: 'print(1)', entry: evil });
    await fetch(`${server.base}/api/v1/${encodeURIComponent(evil)}%C2%9B`).then((r) => r.text());
    assert.ok(server.logs.length >= 4, 'the server logged the requests');
    for (const line of server.logs) {
      const values: string[] = [];
      JSON.parse(line, (_key, value) => (typeof value === 'string' && values.push(value), value));
      for (const value of values) assert.ok(!hasUnsafeChars(value), `log value ${JSON.stringify(value)}`);
      assert.doesNotMatch(line, /pwned[^"]*"level":50/, 'a forged log record');
    }
  });
});
