import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, networkInterfaces } from 'node:os';
import { securityServer } from '../helpers/hostile.js';
import { sandboxProcesses, waitForProcess } from '../helpers/sandbox-procs.js';

/**
 * Information leaks. The host plants secrets where a careless sandbox would expose them (the
 * server's environment, a root-only file, a host process's command line, its config file) and
 * knows its own identifiers (hostname, boot id, kernel command line, addresses); hostile programs
 * dump everything they can reach, and none of those host values may appear in what comes out.
 */

const DUMP = [
  'env; cat /proc/self/environ /proc/1/environ /proc/1/cmdline 2>&1 | tr "\\0" "\\n"',
  'for p in /proc/[0-9]*; do tr "\\0" " " < $p/cmdline; echo; tr "\\0" "\\n" < $p/environ; done 2>/dev/null',
  'hostname; cat /etc/hostname /etc/machine-id /var/lib/dbus/machine-id 2>&1',
  'cat /proc/cmdline /proc/sys/kernel/random/boot_id /proc/sys/kernel/hostname /proc/timer_list /proc/sched_debug /proc/keys /proc/key-users /proc/config.gz 2>&1 | head -c 100000',
  'cat /proc/net/dev /proc/net/arp /proc/net/route /proc/net/if_inet6 /proc/net/tcp /proc/net/tcp6 /proc/net/unix 2>&1',
  'ls -la / /root /home /etc /run /var/run /mnt /media /srv /opt /sys /proc 2>&1',
  'cat /root/* /etc/shadow 2>&1 | head -c 10000',
  'grep -rsI --exclude-dir=proc --exclude-dir=sys -l rc-canary / 2>/dev/null | head -20',
].join('\n');

describe('information leaks', async () => {
  // The host is snapshotted first: the planted secrets are removed again before it is compared.
  const server = await securityServer({ apiKeys: [], logLevel: 'info' });
  const secret = `rc-canary-${randomBytes(12).toString('hex')}`;
  process.env.RC_CANARY_SECRET = secret; // the server process's own environment
  const secretFile = `/root/rc-canary-${randomBytes(4).toString('hex')}`;
  writeFileSync(secretFile, `${secret}\n`, { mode: 0o600 });
  const configFile = `/tmp/rc-canary-config-${randomBytes(4).toString('hex')}.json`;
  writeFileSync(configFile, JSON.stringify({ api_keys: [secret] }));
  const hostProcess = spawn('bash', ['-c', 'sleep 60', secret], { stdio: 'ignore' });
  server.onTeardown(() => {
    hostProcess.kill('SIGKILL');
    rmSync(secretFile, { force: true });
    rmSync(configFile, { force: true });
    delete process.env.RC_CANARY_SECRET;
  });

  const hostValues = (): Record<string, string> => {
    const values: Record<string, string> = {
      secret,
      hostname: hostname(),
      bootId: readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(),
      kernelCmdline: readFileSync('/proc/cmdline', 'utf8').trim(),
      serverPid: `/proc/${process.pid}/`,
      repo: `${process.cwd()}/`,
    };
    for (const [name, list] of Object.entries(networkInterfaces())) {
      for (const a of list ?? []) if (!a.internal) Object.assign(values, { [`${name} ${a.address}`]: a.address, [`${name} mac`]: a.mac });
    }
    try {
      values.machineId = readFileSync('/etc/machine-id', 'utf8').trim();
    } catch {
      // no machine id on this host
    }
    return values;
  };

  for (const language of ['bash', 'python'] as const) {
    it(`${language}: no host secret, identity, process, file or address appears in anything the program can read`, async () => {
      const code =
        language === 'bash'
          ? DUMP
          : `import subprocess, os, glob\nprint(dict(os.environ))\nfor p in glob.glob("/proc/*/environ") + glob.glob("/proc/*/cmdline"):\n    try: print(open(p, "rb").read())\n    except OSError as e: print(p, e)\nprint(subprocess.run(["bash", "-c", ${JSON.stringify(DUMP)}], capture_output=True).stdout.decode(errors="replace"))\n`;
      const result = await server.attack({ language, code, timeout: 20_000, output_limit: 16 * 1024 * 1024 });
      assert.equal(result.truncated.stdout, false, 'the whole dump came back');
      assert.match(result.stdout, /sandbox/, 'the dump ran');
      const out = result.stdout + result.stderr;
      for (const [what, value] of Object.entries(hostValues())) {
        if (value.length >= 6) assert.ok(!out.includes(value), `the host's ${what} leaked into the sandbox`);
      }
    });
  }

  it('python + bash: a concurrent sandbox cannot see, signal or read another (host: both ran to the end under distinct uids)', async () => {
    const other = `rc-canary-${randomBytes(12).toString('hex')}`;
    const victim = server.attack({
      language: 'python',
      env: { VICTIM_SECRET: other },
      code: [
        'import os, socket, sys, time',
        `secret = "${other}"`,
        'for d in ("/tmp", "/work", "/dev/shm"): open(d + "/secret", "w").write(secret)',
        's = socket.socket(socket.AF_UNIX); s.bind("\\0victim"); s.listen()',
        'open("/proc/self/comm", "w").write("rc-victim")',
        'time.sleep(2.5)',
        'print("alive", os.getpid())',
      ].join('\n'),
      timeout: 8000,
    });
    const target = await waitForProcess((p) => p.comm === 'rc-victim');
    const attacking = server.attack({
      language: 'bash',
      code: [
        'kill -9 -1 2>/dev/null; for p in $(seq 1 400); do [ $p = $$ ] || kill -9 $p 2>/dev/null; done',
        `cat /tmp/secret /work/secret /dev/shm/secret /proc/${target.pid}/environ 2>&1`,
        'for p in /proc/[0-9]*; do tr "\\0" " " < $p/environ; done 2>/dev/null',
        'grep -rs rc-canary /tmp /work /dev/shm /proc/*/cmdline 2>/dev/null',
        '(exec 3<>/dev/tcp/127.0.0.1/1) 2>/dev/null; echo probe done',
        'exec -a rc-attacker sleep 0.5',
      ].join('\n'),
      timeout: 5000,
    });
    const spy = await waitForProcess((p) => p.cmdline.startsWith('rc-attacker'));
    const victimNow = sandboxProcesses().find((p) => p.pid === target.pid);
    const attacker = await attacking;
    const result = await victim;
    assert.match(result.stdout, /^alive /m, 'the victim was killed or disturbed');
    assert.ok(!(attacker.stdout + attacker.stderr).includes(other), 'the other sandbox\'s secret leaked');
    assert.match(attacker.stdout, /probe done/);
    // Host evidence: after the attack the victim's process was still there, in another cgroup under another host uid.
    assert.equal(victimNow?.comm, 'rc-victim', 'the victim process was gone after the attack');
    assert.notEqual(spy.sandbox, target.sandbox);
    assert.notEqual(spy.uids[0], target.uids[0], 'two sandboxes shared a host uid');
    assert.notEqual(spy.ns.pid, target.ns.pid);
  });
});
