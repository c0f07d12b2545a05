import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { get, testServer } from '../helpers/server.js';
import { sandboxProcesses, settled } from '../helpers/sandbox-procs.js';
import { SessionApi } from '../helpers/sessions.js';

/**
 * Sessions over HTTP with real sandboxes (bwrap) on a real server on loopback: the round trip, state
 * that persists between calls, a compiled language, the file API's refusals, isolation between API
 * keys, the memory limit, and nothing left behind.
 */
const server = await testServer({
  apiKeys: ['key-a', 'key-b'],
  poolSize: 1,
  poolWarm: ['python'],
  sessionMaxFileBytes: 256 * 1024,
  sessionMaxBytes: 512 * 1024,
});
const a = new SessionApi(server.base, 'key-a');
const b = new SessionApi(server.base, 'key-b');
const hostPasswd = (): string => createHash('sha256').update(readFileSync('/etc/passwd')).digest('hex');

describe('a session round trip', () => {
  it('creates, executes code and commands, moves files in and out, lists, and ends', async () => {
    const created = await a.request('POST', '/api/v1/sessions', { language: 'python', env: { GREETING: 'hi' } });
    assert.equal(created.status, 201);
    const info = created.body;
    assert.match(info.id, /^[0-9a-f-]{36}$/);
    assert.equal(info.language, 'python');
    assert.equal(info.backend, 'bwrap');
    assert.match(info.version, /^3\./);
    assert.ok(Date.parse(info.expires_at) > Date.parse(info.created_at), 'expires after it was created');
    assert.equal(info.idle_timeout_ms, 300_000, 'the default idle timeout is 5 min');

    const printed = await a.run(info.id, { code: 'import os\nprint(os.environ["GREETING"], 6 * 7)' });
    assert.equal(printed.stdout, 'hi 42\n');
    assert.equal(printed.exit_code, 0);
    for (const field of ['trace_id', 'timings', 'truncated', 'timed_out', 'oom_killed', 'memory_peak_bytes']) assert.ok(field in printed, field);

    const put = await a.put(info.id, 'data/in.txt', Buffer.from('line one\nline two\n'));
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.deepEqual(put.body, { path: 'data/in.txt', size: 18 });
    const counted = await a.run(info.id, { command: ['wc', '-l', 'data/in.txt'] });
    assert.equal(counted.stdout.trim(), '2 data/in.txt');

    const json = await a.put(info.id, 'b64.bin', { content: Buffer.from([0, 1, 2, 255]).toString('base64'), encoding: 'base64' });
    assert.equal(json.status, 200);
    const bytes = await a.file(info.id, 'b64.bin');
    assert.equal(bytes.status, 200);
    assert.deepEqual([...bytes.bytes], [0, 1, 2, 255]);
    assert.equal(bytes.headers.get('content-type'), 'application/octet-stream');
    assert.equal(bytes.headers.get('x-content-type-options'), 'nosniff');

    await a.run(info.id, { code: 'import os\nos.makedirs("out", exist_ok=True)\nopen("out/report.csv", "w").write("a,b\\n1,2\\n")' });
    const report = await a.file(info.id, 'out/report.csv');
    assert.equal(report.bytes.toString(), 'a,b\n1,2\n');
    assert.match(report.headers.get('content-type')!, /^text\/csv/);

    const listing = await a.file(info.id);
    assert.equal(listing.status, 200);
    const paths = listing.body.entries.map((e: { path: string }) => e.path);
    assert.deepEqual(paths.filter((p: string) => !p.startsWith('main.')), ['b64.bin', 'data', 'data/in.txt', 'out', 'out/report.csv']);
    const entry = listing.body.entries.find((e: { path: string }) => e.path === 'data/in.txt');
    assert.equal(entry.type, 'file');
    assert.equal(entry.size, 18);
    assert.ok(Date.parse(entry.mtime) > 0);
    const sub = await a.file(info.id, 'out');
    assert.deepEqual(sub.body.entries.map((e: { path: string }) => e.path), ['out/report.csv'], 'a directory path lists that directory');

    assert.equal((await a.deleteFile(info.id, 'data')).status, 204);
    assert.equal((await a.file(info.id, 'data/in.txt')).status, 404);

    const mine = await a.list();
    assert.ok(mine.body.sessions.some((s: { id: string }) => s.id === info.id));
    assert.equal((await a.request('POST', `/api/v1/sessions/${info.id}/keepalive`)).status, 200);
    assert.equal((await a.remove(info.id)).status, 204);
    assert.equal((await a.get(info.id)).status, 404);
    assert.equal((await a.execute(info.id, { code: 'print(1)' })).status, 404);
    assert.deepEqual(await settled(), [], 'deleting the session killed its processes');
  });

  it('starts its sandbox from the warm pool', async () => {
    const before = (await get(server.base, '/api/v1/pool', { authorization: 'Bearer key-a' })).body;
    const hits = (stats: any): number => stats.images.filter((i: { image: string }) => i.image === 'python').reduce((sum: number, i: { hits: number }) => sum + i.hits, 0);
    for (let i = 0; i < 300 && (await get(server.base, '/api/v1/pool', { authorization: 'Bearer key-a' })).body.idle_total < 1; i++) await sleep(100);
    const id = await a.create({ language: 'python' });
    const after = (await get(server.base, '/api/v1/pool', { authorization: 'Bearer key-a' })).body;
    assert.equal(hits(after), hits(before) + 1, 'the session took a warm sandbox');
    await a.remove(id);
  });
});

describe('state between calls', () => {
  it('keeps files, and a background process keeps running', async () => {
    const id = await a.create({ language: 'python' });
    await a.run(id, { code: 'open("state.txt", "w").write("41")' });
    const read = await a.run(id, { code: 'print(int(open("state.txt").read()) + 1)' });
    assert.equal(read.stdout, '42\n');

    // A process that left its exec's process group lives on between calls.
    await a.run(id, { code: 'import subprocess\nsubprocess.Popen(["sh", "-c", "while :; do echo t >> ticks.txt; sleep 0.1; done"], start_new_session=True)\nprint("started")' });
    await sleep(700);
    const first = (await a.run(id, { command: ['wc', '-l', 'ticks.txt'] })).stdout;
    await sleep(700);
    const second = (await a.run(id, { command: ['wc', '-l', 'ticks.txt'] })).stdout;
    assert.ok(parseInt(first, 10) >= 3, `ticking: ${first}`);
    assert.ok(parseInt(second, 10) > parseInt(first, 10), `still ticking: ${first} then ${second}`);
    const ticking = sandboxProcesses().filter((p) => p.cmdline.includes('ticks.txt'));
    assert.equal(ticking.length, 1, 'the host sees the background process in the session sandbox');

    assert.equal((await a.remove(id)).status, 204);
    assert.deepEqual(await settled(), [], 'the background process died with the session');
  });

  it('compiles a C program in the session and runs its binary again later', async () => {
    const id = await a.create({ language: 'c' });
    const compiled = await a.run(id, { code: '#include <stdio.h>\nint main(int argc, char **argv) { printf("hello %d\\n", argc); return 3; }' });
    assert.equal(compiled.compile?.exit_code, 0, JSON.stringify(compiled.compile));
    assert.equal(compiled.stdout, 'hello 1\n');
    assert.equal(compiled.exit_code, 3);
    const again = await a.run(id, { command: ['./a.out', 'x', 'y'] });
    assert.equal(again.stdout, 'hello 3\n', 'the binary of the first call is still there');
    const broken = await a.run(id, { code: 'int main( {' });
    assert.notEqual(broken.compile?.exit_code, 0, 'a compile error is reported as the compile stage');
    await a.remove(id);
  });

  it('a memory bomb is killed and the session lives on', async () => {
    const id = await a.create({ language: 'python', limits: { memory: 96 } });
    await a.run(id, { code: 'open("kept.txt", "w").write("kept")' });
    const bomb = await a.run(id, { code: 'x = []\nwhile True:\n    x.append(b"x" * (8 << 20))' });
    assert.equal(bomb.oom_killed, true, JSON.stringify(bomb));
    assert.equal(bomb.signal, 'SIGKILL');
    const after = await a.run(id, { code: 'print(open("kept.txt").read())' });
    assert.equal(after.stdout, 'kept\n', 'the session and its files survived the bomb');
    await a.remove(id);
  });
});

describe('the file API refuses paths out of the work directory', () => {
  it('400 naming `path` for traversal, absolute, NUL, over-long and empty paths; nothing touched', async () => {
    const id = await a.create({ language: 'python' });
    await a.put(id, 'keep.txt', Buffer.from('keep'));
    const before = (await a.file(id)).body.entries;
    const passwd = hostPasswd();
    const bad = ['../etc/passwd', '/etc/passwd', 'a/../../etc/passwd', '..', '.', 'a/./b', 'a//b', 'a\0b', 'x'.repeat(256), ''];
    for (const path of bad) {
      for (const reply of [await a.put(id, path, Buffer.from('pwned')), await a.file(id, path), await a.deleteFile(id, path)]) {
        if (path === '' && reply.status === 200) continue; // GET with an empty path lists the work directory
        assert.equal(reply.status, 400, `${JSON.stringify(path)}: ${reply.status} ${JSON.stringify(reply.body)}`);
        assert.equal(reply.body.error.field, 'path', JSON.stringify(reply.body));
      }
    }
    assert.deepEqual((await a.file(id)).body.entries, before, 'nothing in the session changed');
    assert.equal(hostPasswd(), passwd, "the host's /etc/passwd is untouched");
    await a.remove(id);
  });

  it('refuses symlinks the code planted (to /etc/passwd, to /, to ..): 400 naming `path`, targets untouched', async () => {
    const id = await a.create({ language: 'python' });
    await a.run(id, { command: ['ln', '-s', '/etc/passwd', 'passwd'] });
    await a.run(id, { command: ['ln', '-s', '/', 'root'] });
    await a.run(id, { command: ['ln', '-s', '..', 'up'] });
    await a.run(id, { command: ['mkdir', 'd'] });
    await a.run(id, { command: ['ln', '-s', '/tmp', 'd/tmp'] });
    const inside = (await a.run(id, { command: ['sha256sum', '/etc/passwd'] })).stdout;
    const passwd = hostPasswd();
    const attempts = [
      await a.file(id, 'passwd'),
      await a.put(id, 'passwd', Buffer.from('root::0:0::/:/bin/sh\n')),
      await a.file(id, 'root/etc/passwd'),
      await a.put(id, 'root/tmp/planted', Buffer.from('x')),
      await a.file(id, 'up/work/passwd'),
      await a.put(id, 'd/tmp/planted', Buffer.from('x')),
      await a.deleteFile(id, 'root/etc/passwd'),
      await a.file(id, 'root'),
    ];
    for (const reply of attempts) {
      assert.equal(reply.status, 400, JSON.stringify(reply.body));
      assert.equal(reply.body.error.field, 'path');
    }
    const listing = (await a.file(id)).body.entries;
    assert.deepEqual(listing.filter((e: { type: string }) => e.type === 'symlink').map((e: { path: string }) => e.path), ['d/tmp', 'passwd', 'root', 'up'], 'listed as links, never followed');
    assert.equal((await a.run(id, { command: ['sha256sum', '/etc/passwd'] })).stdout, inside, "the image's /etc/passwd is untouched");
    assert.equal((await a.run(id, { command: ['ls', '/tmp'] })).stdout, '', 'nothing was planted in /tmp');
    assert.equal(hostPasswd(), passwd, "the host's /etc/passwd is untouched");
    assert.equal((await a.deleteFile(id, 'passwd')).status, 204, 'a link is deleted itself');
    assert.equal((await a.run(id, { command: ['sha256sum', '/etc/passwd'] })).stdout, inside, 'and never its target');
    await a.remove(id);
  });

  it('caps each file and the session: 413 past them', async () => {
    const id = await a.create({ language: 'python' });
    const big = await a.put(id, 'big.bin', Buffer.alloc(256 * 1024 + 1));
    assert.equal(big.status, 413, JSON.stringify(big.body));
    assert.equal(big.body.error.code, 'RC_ERR_FILE_TOO_LARGE');
    assert.equal((await a.put(id, 'one.bin', Buffer.alloc(200 * 1024))).status, 200);
    assert.equal((await a.put(id, 'two.bin', Buffer.alloc(200 * 1024))).status, 200);
    const third = await a.put(id, 'three.bin', Buffer.alloc(200 * 1024));
    assert.equal(third.status, 413, 'the session would hold more than session_max_bytes');
    assert.equal((await a.put(id, 'two.bin', Buffer.alloc(250 * 1024))).status, 200, 'a replaced file does not count twice');
    // A file the program wrote past the per-file cap cannot be read out either.
    await a.run(id, { code: 'open("huge.bin", "wb").write(b"x" * (300 * 1024))' });
    assert.equal((await a.file(id, 'huge.bin')).status, 413);
    await a.remove(id);
  });
});

describe('isolation between API keys and between sessions', () => {
  it("a key cannot see or touch another key's session, and sessions cannot see each other", async () => {
    const mine = await a.create({ language: 'python' });
    const theirs = await b.create({ language: 'python' });
    await a.put(mine, 'secret.txt', Buffer.from('a-secret'));
    await a.run(mine, { code: 'import subprocess\nsubprocess.Popen(["sleep", "300"], start_new_session=True)' });

    for (const reply of [
      await b.get(mine),
      await b.execute(mine, { code: 'print(1)' }),
      await b.file(mine, 'secret.txt'),
      await b.file(mine),
      await b.put(mine, 'x.txt', Buffer.from('x')),
      await b.deleteFile(mine, 'secret.txt'),
      await b.request('POST', `/api/v1/sessions/${mine}/keepalive`),
      await b.remove(mine),
    ]) {
      assert.equal(reply.status, 404, JSON.stringify(reply.body));
      assert.equal(reply.body.error.code, 'RC_ERR_NOT_FOUND');
    }
    assert.deepEqual((await b.list()).body.sessions.map((s: { id: string }) => s.id), [theirs], 'b lists only its own');
    assert.equal((await a.file(mine, 'secret.txt')).bytes.toString(), 'a-secret', 'still there for its owner');

    const look = await b.run(theirs, { code: 'import os\nprint(sorted(os.listdir("/work")))\nprint(any("300" in open(f"/proc/{p}/cmdline").read() for p in os.listdir("/proc") if p.isdigit()))' });
    assert.equal(look.stdout.split('\n')[1], 'False', "b's session sees none of a's processes");
    assert.ok(!look.stdout.includes('secret'), "nor a's files");
    await a.remove(mine);
    await b.remove(theirs);
    assert.deepEqual(await settled(), []);
  });

  it('a session runs as its own uid in its own namespaces', async () => {
    const one = await a.create({ language: 'python' });
    const two = await a.create({ language: 'python' });
    await a.run(one, { code: 'import subprocess\nsubprocess.Popen(["sleep", "301"], start_new_session=True)' });
    await a.run(two, { code: 'import subprocess\nsubprocess.Popen(["sleep", "302"], start_new_session=True)' });
    const procs = sandboxProcesses();
    const p1 = procs.find((p) => p.cmdline === 'sleep 301')!;
    const p2 = procs.find((p) => p.cmdline === 'sleep 302')!;
    assert.ok(p1 && p2, 'both background processes found');
    assert.notEqual(p1.sandbox, p2.sandbox, 'two cgroups');
    assert.notEqual(p1.uids[0], p2.uids[0], 'two host uids');
    assert.notEqual(p1.ns.pid, p2.ns.pid, 'two pid namespaces');
    assert.notEqual(p1.ns.net, p2.ns.net, 'two network namespaces');
    assert.equal(p1.seccomp, '2', 'seccomp filter');
    assert.equal(p1.capEff, '0000000000000000', 'no capabilities');
    await a.remove(one);
    await a.remove(two);
  });
});

describe('bad requests', () => {
  it('name the field and start nothing', async () => {
    const before = sandboxProcesses().length;
    const cases: [unknown, string][] = [
      [{ language: 'python', idle_timeout_ms: 10 }, 'idle_timeout_ms'],
      [{ language: 'python', idle_timeout_ms: 99_999_999 }, 'idle_timeout_ms'],
      [{ language: 'python', limits: { memory: 1 << 20 } }, 'limits.memory'],
      [{ language: 'python', files: [{ name: '../x', content: 'x' }] }, 'files[0].name'],
      [{ language: 'python', env: { 'BAD-NAME': 'x' } }, 'env.BAD-NAME'],
      [{ language: 'python', extra: 1 }, 'extra'],
      [{ language: 'python', backend: 'qemu' }, 'backend'],
    ];
    const unknown = await a.request('POST', '/api/v1/sessions', { language: 'cobol-9000' });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.error.code, 'RC_ERR_UNKNOWN_LANGUAGE');
    for (const [body, field] of cases) {
      const reply = await a.request('POST', '/api/v1/sessions', body);
      assert.ok(reply.status === 400, `${JSON.stringify(body)}: ${reply.status}`);
      assert.equal(reply.body.error.field, field, JSON.stringify(reply.body));
    }
    const id = await a.create({ language: 'python' });
    for (const [body, field] of [
      [{}, 'code'],
      [{ code: 'print(1)', command: ['ls'] }, 'code'],
      [{ command: [] }, 'command'],
      [{ command: ['ls\0'] }, 'command[0]'],
      [{ code: 'print(1)', timeout: 10_000_000 }, 'timeout'],
      [{ code: 'print(1)', files: [{ name: '/etc/x', content: 'x' }] }, 'files[0].name'],
    ] as [unknown, string][]) {
      const reply = await a.execute(id, body as Record<string, unknown>);
      assert.equal(reply.status, 400, `${JSON.stringify(body)}: ${JSON.stringify(reply.body)}`);
      assert.equal(reply.body.error.field, field, JSON.stringify(reply.body));
    }
    await a.remove(id);
    assert.equal(sandboxProcesses().length, before);
  });
});
