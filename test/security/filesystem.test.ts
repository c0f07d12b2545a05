import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dataPaths } from '../../src/config/paths.js';
import { ImageStore } from '../../src/images/store.js';
import { MARKER, securityServer } from '../helpers/hostile.js';
import { mountinfoOf, waitForProcess } from '../helpers/sandbox-procs.js';

/**
 * Symlink and hardlink planting against host-side paths (the Judge0 CVE-2024-28185/28189 class),
 * writes to the read-only image, and persistence between runs. Verdicts: host files planted as
 * targets are byte-for-byte and inode-for-inode unchanged, the images on the host are unchanged,
 * no file with the attack marker exists, and the host's view of the sandbox's mounts.
 */

const images = new ImageStore(dataPaths().imagesDir);

/** What would change if anything wrote, replaced, chmod-ed, chowned or linked a host file. */
function fingerprint(path: string): string {
  const st = statSync(path);
  const hash = st.isFile() ? createHash('sha256').update(readFileSync(path)).digest('hex') : readdirSync(path).sort().join(',');
  return JSON.stringify({ ino: st.ino, mode: st.mode, uid: st.uid, gid: st.gid, nlink: st.nlink, size: st.size, mtime: st.mtimeMs, hash });
}

describe('host files', async () => {
  const server = await securityServer();
  const targetDir = mkdtempSync('/tmp/rc-target-');
  const victim = join(targetDir, 'victim');
  writeFileSync(victim, 'original\n');
  chmodSync(victim, 0o600);
  server.onTeardown(() => rmSync(targetDir, { recursive: true, force: true }));

  it('bash: symlinks, hardlinks and fifos planted in /work, /tmp and /dev/shm reach no host file', async () => {
    const before = [fingerprint(victim), fingerprint(targetDir)];
    const result = await server.attack({
      language: 'bash',
      code: [
        `T=${targetDir}`,
        'for d in /work /tmp /dev/shm; do',
        '  ln -s "$T/victim" $d/out.txt; ln -s / $d/root; ln -s /proc/1/root $d/p1root; ln -s "$T" $d/dir',
        '  ln "$T/victim" $d/hard 2>/dev/null; ln /etc/passwd $d/hardpasswd 2>/dev/null; mkfifo $d/fifo',
        `  echo pwned > $d/out.txt; echo pwned > $d/dir/${MARKER}; chmod 4777 $d/out.txt; chown 0 $d/out.txt`,
        'done',
        `echo pwned > /proc/1/root${targetDir}/victim; cp /bin/sh /proc/self/root/tmp/${MARKER}`,
        'ls -la /work /tmp /dev/shm | grep -c -- "->"',
        'exec -a rc-ready sleep 1',
      ].join('\n'),
      timeout: 5000,
    });
    assert.deepEqual([fingerprint(victim), fingerprint(targetDir)], before, 'the host target changed');
    assert.equal(readFileSync(victim, 'utf8'), 'original\n');
    assert.equal(Number(result.stdout.trim()), 12, `the links were planted: ${result.stdout} ${result.stderr}`);
  });

  it('bash: the writable places are the sandbox\'s own size-capped tmpfs, the image and the agent are read-only binds', async () => {
    const pending = server.attack({ language: 'bash', code: 'exec -a rc-ready sleep 1', timeout: 5000 });
    const ready = await waitForProcess((p) => p.cmdline.startsWith('rc-ready'));
    const mounts = mountinfoOf(ready.pid).map((line) => {
      const f = line.split(' ');
      const dash = f.indexOf('-');
      return { target: f[4]!, options: f[5]!, type: f[dash + 1]!, superOptions: f[dash + 3]! };
    });
    await pending;
    const writable = mounts.filter((m) => /(^|,)rw(,|$)/.test(m.options));
    // /proc is the kernel's and /dev/<node> are device nodes bound in (/dev itself is read-only); the rest must be size-capped tmpfs.
    for (const m of writable.filter((m) => m.target !== '/proc' && !m.target.startsWith('/dev/'))) {
      assert.equal(m.type, 'tmpfs', `${m.target} is writable and not a tmpfs`);
      assert.match(m.superOptions, /size=\d+k/, `${m.target} has no size cap`);
    }
    assert.ok(mounts.some((m) => m.target === '/dev/shm' && m.type === 'tmpfs' && /size=/.test(m.superOptions)));
    for (const target of ['/', '/.runner/runner-agent']) {
      assert.match(mounts.find((m) => m.target === target)?.options ?? '', /^ro,/, `${target} read-only`);
    }
    // Every masked /proc entry is covered.
    assert.ok(mounts.some((m) => m.target === '/proc/sys/kernel/random/boot_id' && m.options.startsWith('ro,')));
  });

  it('bash and python: writes to the image, the agent and system paths change nothing on the host', async () => {
    const rootfs = images.rootfs('python');
    const watched = ['etc/passwd', 'usr/bin/python3', 'etc/profile.d', 'usr/lib/python3/dist-packages', 'var/tmp', 'run/lock', 'tmp', 'work'].map((p) => join(rootfs, p));
    const agent = dataPaths().agent;
    const before = [...watched, agent].map(fingerprint);
    const result = await server.attack({
      language: 'python',
      code: [
        'import os, shutil',
        `targets = ["/etc/passwd", "/usr/bin/python3", "/.runner/runner-agent", "/etc/profile.d/${MARKER}.sh", "/usr/lib/python3/dist-packages/sitecustomize.py", "/var/tmp/${MARKER}", "/run/lock/${MARKER}", "/${MARKER}"]`,
        'for t in targets:',
        '    try:',
        '        open(t, "ab").write(b"pwned"); print("wrote", t)',
        '    except OSError as e:',
        '        print("refused", t, e.errno)',
        'for op in [lambda: os.rename("/etc", "/etc2"), lambda: os.chmod("/usr/bin/python3", 0o4777), lambda: os.utime("/etc/passwd"), lambda: shutil.rmtree("/usr/share")]:',
        '    try:',
        '        op(); print("changed")',
        '    except OSError as e:',
        '        print("refused", e.errno)',
      ].join('\n'),
    });
    assert.deepEqual([...watched, agent].map(fingerprint), before, 'an image or agent file changed on the host');
    assert.doesNotMatch(result.stdout, /^(wrote|changed)/m, result.stdout);
  });

  it('bash then python: nothing planted by one run is seen by the next runs (pool included)', async () => {
    const marker = `${MARKER}-${Date.now()}`;
    const places = ['/tmp', '/dev/shm', '/var/tmp', '/run/lock', '/work', '$HOME'];
    const rootfs = images.rootfs('base');
    const hostBefore = ['var/tmp', 'run/lock', 'tmp', 'work', 'dev/shm'].map((p) => fingerprint(join(rootfs, p)));
    const planting = await server.attack({
      language: 'bash',
      code: [
        ...places.map((p) => `echo ${marker} > ${p}/${marker} 2>/dev/null`),
        `echo "echo ${marker}" >> $HOME/.bashrc; echo "echo ${marker}" >> $HOME/.profile`,
        `(setsid sleep 100 &) ; ipcmk -M 4096 >/dev/null 2>&1`,
        `cat /tmp/${marker} /dev/shm/${marker} /work/${marker}`,
      ].join('\n'),
    });
    assert.equal(planting.stdout, `${marker}\n`.repeat(3), 'the first run could write its markers');
    for (let run = 0; run < 3; run++) {
      const result = await server.attack({
        language: 'bash',
        code: `cat ${places.map((p) => `${p}/${marker}`).join(' ')} $HOME/.bashrc $HOME/.profile 2>/dev/null; ls -A ${places.join(' ')} 2>/dev/null; ipcs -m 2>/dev/null | grep -c 0x; ps -e 2>/dev/null | grep -c sleep; true`,
      });
      assert.doesNotMatch(result.stdout, new RegExp(marker), `run ${run} saw what an earlier run left`);
    }
    assert.deepEqual(['var/tmp', 'run/lock', 'tmp', 'work', 'dev/shm'].map((p) => fingerprint(join(rootfs, p))), hostBefore);
  });
});
