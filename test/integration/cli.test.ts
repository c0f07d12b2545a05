import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataPaths } from '../../src/config/paths.js';
import { packageRoot } from '../../src/config/paths.js';
import { API_OPTIONS } from '../../src/api/config.js';

const CLI = join(packageRoot, 'dist', 'src', 'cli', 'index.js');

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('infra.operator run', () => {
  it('prints the program output and exits with its code', async () => {
    const r = await cli(['run', '--lang', 'python', '--code', "print('Hello from Runner Codes!')"]);
    assert.equal(r.stdout, 'Hello from Runner Codes!\n');
    assert.equal(r.code, 0);
    const failing = await cli(['run', '--lang', 'bash', '--code', 'echo out; echo err >&2; exit 3']);
    assert.deepEqual(failing, { code: 3, stdout: 'out\n', stderr: 'err\n' });
  });

  it('runs a C file with stdin and prints the result object with --json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rc-cli-'));
    try {
      const file = join(dir, 'hello.c');
      writeFileSync(file, '#include <stdio.h>\nint main(void){char b[64];fgets(b,64,stdin);printf("Hello, %s!\\n",b);return 0;}\n');
      const r = await cli(['run', '--lang', 'c', '--file', file, '--stdin', 'world', '--json']);
      assert.equal(r.code, 0, r.stderr);
      const result = JSON.parse(r.stdout);
      assert.equal(result.status, 'success');
      assert.equal(result.stdout, 'Hello, world!\n');
      assert.equal(result.exit_code, 0);
      assert.equal(result.compile.exit_code, 0);
      for (const key of ['trace_id', 'language', 'version', 'stderr', 'signal', 'timed_out', 'oom_killed', 'truncated', 'load_time', 'exec_time', 'timings', 'cpu_time_ms', 'memory_peak_bytes']) {
        assert.ok(key in result, `result has ${key}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('passes arguments after -- and through --args', async () => {
    const r = await cli(['run', '--lang', 'python', '--code', 'import sys; print(sys.argv[1:])', '--', 'a', 'b c']);
    assert.equal(r.stdout, "['a', 'b c']\n");
  });

  it('passes binary output through untouched', async () => {
    const bytes = await new Promise<Buffer>((resolve, reject) => {
      execFile(process.execPath, [CLI, 'run', '--lang', 'python', '--code', 'import sys; sys.stdout.buffer.write(bytes([255, 0, 10, 200]))'], { encoding: 'buffer' }, (err, stdout) =>
        err ? reject(err) : resolve(stdout),
      );
    });
    assert.deepEqual([...bytes], [255, 0, 10, 200]);
  });

  it('says when a time limit was hit', async () => {
    const r = await cli(['run', '--lang', 'bash', '--code', 'sleep 10', '--timeout', '300']);
    assert.equal(r.code, 137);
    assert.match(r.stderr, /time limit exceeded/);
  });
});

describe('clear one-line errors with exit code 2', () => {
  it('unknown language', async () => {
    const r = await cli(['run', '--lang', 'klingon', '--code', 'x']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^error: unsupported language 'klingon'\nhint: known languages: /);
    assert.doesNotMatch(r.stderr, /\bat \w+ \(/, 'no stack trace');
  });

  it('missing --code and --file', async () => {
    const r = await cli(['run', '--lang', 'python']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--code\/--file: give exactly one of --code or --file/);
  });

  it('unreadable --file', async () => {
    const r = await cli(['run', '--lang', 'python', '--file', '/nonexistent/x.py']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--file: cannot read '\/nonexistent\/x.py': ENOENT/);
  });

  it('bad --timeout', async () => {
    const r = await cli(['run', '--lang', 'python', '--code', 'print(1)', '--timeout', 'soon']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--timeout: 'soon' is not a whole number/);
  });

  describe('with an empty data dir', () => {
    let home: string;
    before(() => {
      // Same agent and filter, but no images: what a user sees before `rootfs build`.
      home = mkdtempSync(join(tmpdir(), 'rc-home-'));
      const real = dataPaths();
      symlinkSync(real.binDir, join(home, 'bin'));
      symlinkSync(real.seccompFilter, join(home, 'seccomp.bpf'));
      mkdirSync(join(home, 'images'));
    });
    after(() => rmSync(home, { recursive: true, force: true }));

    it('names the command that builds a missing image', async () => {
      const r = await cli(['run', '--lang', 'python', '--code', 'print(1)'], { RUNNER_CODES_HOME: home });
      assert.equal(r.code, 2);
      assert.equal(r.stderr, "error: image for 'python' is not built\nhint: run `infra.operator rootfs build --lang python`\n");
    });

    it('names setup when the agent is missing', async () => {
      const r = await cli(['run', '--lang', 'python', '--code', 'print(1)'], { RUNNER_CODES_HOME: join(home, 'images') });
      assert.equal(r.code, 2);
      assert.match(r.stderr, /^error: the agent is not built .*\nhint: run `infra.operator setup`/);
    });
  });
});

describe('other commands', () => {
  it('has --help everywhere', async () => {
    for (const command of [[], ['run'], ['api'], ['setup'], ['doctor'], ['rootfs'], ['rootfs', 'build'], ['rootfs', 'list'], ['rootfs', 'rm'], ['languages'], ['snapshot'], ['snapshot', 'create'], ['snapshot', 'list'], ['snapshot', 'rm'], ['bench']]) {
      const r = await cli([...command, '--help']);
      assert.equal(r.code, 0, `${command.join(' ')} --help`);
      assert.match(r.stdout, /Usage: /);
    }
  });

  it('api --help documents every option with its environment variable', async () => {
    const r = await cli(['api', '--help']);
    for (const spec of API_OPTIONS) {
      assert.ok(r.stdout.includes(spec.flag.split(' ')[0]!), spec.flag);
      assert.ok(r.stdout.includes(spec.env), spec.env);
    }
  });

  it('doctor --json reports the host without changing it', async () => {
    const r = await cli(['doctor', '--json']);
    const report = JSON.parse(r.stdout);
    assert.equal(report.cgroup.usable, true);
    assert.ok(['v1', 'v2'].includes(report.cgroup.mode));
    assert.equal(report.backends.bwrap.usable, true, report.backends.bwrap.reason);
    assert.equal(typeof report.kvm.usable, 'boolean');
    assert.ok(report.images.some((i: { id: string; built: boolean }) => i.id === 'python' && i.built));
    assert.equal(r.code, 0);
  });

  it('languages --json lists id, aliases, version, installed and image size', async () => {
    const r = await cli(['languages', '--json']);
    const rows = JSON.parse(r.stdout) as { id: string; aliases: string[]; version: string | null; installed: boolean; image_bytes: number }[];
    const python = rows.find((row) => row.id === 'python');
    assert.ok(python?.installed);
    assert.match(python.version ?? '', /^3\.\d+/);
    assert.ok(python.aliases.includes('py'));
    assert.ok(python.image_bytes > 10_000_000);
  });

  it('rootfs build skips an up-to-date image quickly', async () => {
    const r = await cli(['rootfs', 'build', '--lang', 'python', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const reports = JSON.parse(r.stdout) as { image: string; built: boolean }[];
    assert.deepEqual(reports.map((x) => [x.image, x.built]), [['base', false], ['python', false]]);
    assert.match(r.stderr, /\[python\] up to date/);
  });

  it('setup is idempotent: a second run installs and rebuilds nothing', async () => {
    const r = await cli(['setup', '--json', '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as { installed_packages: string[]; images: { image: string; built: boolean }[] };
    assert.deepEqual(report.installed_packages, []);
    assert.ok(report.images.length >= 4);
    assert.ok(report.images.every((i) => !i.built), JSON.stringify(report.images));
  });

  it('setup refuses VM options without --vm, and contradictory kernels, naming the flag, before any work', async () => {
    for (const [args, message] of [
      [['--jailer', '/usr/bin/jailer'], /^error: --jailer: goes with --vm/],
      [['--build-kernel'], /^error: --build-kernel: goes with --vm/],
      [['--debian-kernel'], /^error: --debian-kernel: goes with --vm/],
      [['--vm', '--build-kernel', '--debian-kernel'], /^error: --build-kernel: give either --build-kernel or --debian-kernel, not both/],
      [['--vm', '--firecracker', '/bin/true', '--jailer', '/bin/true'], /^error: --firecracker: \/bin\/true does not say it is Firecracker/],
    ] as const) {
      const r = await cli(['setup', ...args]);
      assert.equal(r.code, 2, `setup ${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
  });

  it('rootfs rm refuses unknown images', async () => {
    const r = await cli(['rootfs', 'rm', 'nope']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown image 'nope'/);
  });
});
