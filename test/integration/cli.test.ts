import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
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

interface Spawned {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/**
 * Runs the CLI as a real child process. `stdin`: bytes written to its stdin pipe, then closed; 'open'
 * keeps the pipe open and never ends it (what a parent that forgets stdin does). `readAfterMs` starts
 * reading its stdout only after that long: a slow reader, so the pipe fills up before the CLI ends.
 */
function spawnCli(args: string[], options: { stdin?: string | Buffer | 'open'; readAfterMs?: number } = {}): Promise<Spawned> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    setTimeout(() => child.stdout.on('data', (chunk: Buffer) => out.push(chunk)), options.readAfterMs ?? 0);
    if (options.stdin !== 'open') child.stdin.end(options.stdin ?? '');
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr }));
  });
}

/** `sh -c SCRIPT` with the CLI command as "$@", for real shell pipes and redirections (FIFOs and files, not sockets). */
function shell(script: string, args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile('sh', ['-c', script, 'sh', process.execPath, CLI, ...args], { maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

const MB_OF_X = "import sys; sys.stdout.write('x' * 1000000)";

describe('infra.operator run: output through a pipe loses no byte', () => {
  it('1 MB of output reaches a slow reader whole, and the exit code is the program\'s', async () => {
    const r = await spawnCli(['run', '--lang', 'python', '--code', `${MB_OF_X}; sys.exit(4)`], { readAfterMs: 1500 });
    assert.equal(r.stdout.length, 1_000_000, r.stderr);
    assert.ok(r.stdout.every((byte) => byte === 0x78));
    assert.equal(r.code, 4);
  });

  it('--json with 1 MB of stdout is whole, parseable JSON for a slow reader', async () => {
    const r = await spawnCli(['run', '--lang', 'python', '--code', MB_OF_X, '--json'], { readAfterMs: 1500 });
    const result = JSON.parse(r.stdout.toString('utf8'));
    assert.equal(result.stdout.length, 1_000_000);
    assert.equal(r.code, 0);
  });

  it('`run … | wc -c` counts every byte, past the output cap too with --output-limit', async () => {
    const plain = await shell('"$@" | (sleep 1; wc -c)', ['run', '--lang', 'python', '--code', MB_OF_X]);
    assert.equal(plain.stdout.trim(), '1000000', plain.stderr);
    const big = await shell('"$@" | wc -c', ['run', '--lang', 'python', '--code', "import sys; sys.stdout.write('y' * 3145728)", '--output-limit', '4194304']);
    assert.equal(big.stdout.trim(), '3145728', big.stderr);
  });

  it('a reader that stops early ends the CLI quietly', async () => {
    const r = await shell('"$@" | head -c 5', ['run', '--lang', 'python', '--code', MB_OF_X]);
    assert.equal(r.stdout, 'xxxxx');
    assert.doesNotMatch(r.stderr, /EPIPE|at \w+ \(/);
  });
});

describe('infra.operator run: stdin', () => {
  const echoInput = "import sys; data = sys.stdin.read(); print(len(data), repr(data[:12]))";

  it('piped data is the program\'s stdin (`echo x | run`), and so is a redirected file', async () => {
    const piped = await shell('printf "world" | "$@"', ['run', '--lang', 'python', '--code', "print('hello', input())"]);
    assert.deepEqual(piped, { code: 0, stdout: 'hello world\n', stderr: '' });
    const dir = mkdtempSync(join(tmpdir(), 'rc-cli-'));
    try {
      writeFileSync(join(dir, 'input.txt'), 'from a file\n');
      const redirected = await shell(`"$@" < '${join(dir, 'input.txt')}'`, ['run', '--lang', 'python', '--code', echoInput]);
      assert.equal(redirected.stdout, "12 'from a file\\n'\n", redirected.stderr);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--file - reads the program from stdin; its input then comes from --stdin', async () => {
    const r = await shell('printf "print(6 * 7, input())" | "$@"', ['run', '--lang', 'python', '--file', '-', '--stdin', 'ok']);
    assert.deepEqual(r, { code: 0, stdout: '42 ok\n', stderr: '' });
  });

  it('--stdin-file - reads stdin whatever it is (here a socket from child_process)', async () => {
    const r = await spawnCli(['run', '--lang', 'python', '--code', echoInput, '--stdin-file', '-'], { stdin: 'over a socket' });
    assert.equal(r.stdout.toString(), "13 'over a socke'\n", r.stderr);
  });

  it('an explicit --stdin, or --no-stdin, wins over piped data', async () => {
    const explicit = await shell('printf "piped" | "$@"', ['run', '--lang', 'python', '--code', echoInput, '--stdin', 'given']);
    assert.equal(explicit.stdout, "5 'given'\n");
    const none = await shell('printf "piped" | "$@"', ['run', '--lang', 'python', '--code', echoInput, '--no-stdin']);
    assert.equal(none.stdout, "0 ''\n");
  });

  it('a stdin that is never closed, /dev/null or a terminal-less CI does not make it wait', async () => {
    const open = await spawnCli(['run', '--lang', 'python', '--code', echoInput], { stdin: 'open' });
    assert.equal(open.stdout.toString(), "0 ''\n", open.stderr);
    const devNull = await shell('"$@" < /dev/null', ['run', '--lang', 'python', '--code', echoInput]);
    assert.equal(devNull.stdout, "0 ''\n");
  });

  it('refuses stdin as both source and input, and piped input over the maximum, naming the fix', async () => {
    const both = await shell('printf "print(1)" | "$@"', ['run', '--lang', 'python', '--file', '-', '--stdin-file', '-']);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /^error: --stdin-file: stdin is already the program's source \(--file -\); give the program's input with --stdin TEXT or --stdin-file PATH\n$/);
    const big = await spawnCli(['run', '--lang', 'python', '--code', echoInput, '--stdin-file', '-'], { stdin: Buffer.alloc(1024 * 1024 + 1, 0x61) });
    assert.equal(big.code, 2);
    assert.equal(big.stderr, 'error: --stdin-file -: is more than the 1048576-byte maximum\nhint: raise the maximum with --max-stdin <bytes>\n');
    const raised = await spawnCli(['run', '--lang', 'python', '--code', echoInput, '--stdin-file', '-', '--max-stdin', '2097152'], { stdin: Buffer.alloc(1024 * 1024 + 1, 0x61) });
    assert.equal(raised.stdout.toString(), "1048577 'aaaaaaaaaaaa'\n", raised.stderr);
    const piped = await shell('head -c 1048577 /dev/zero | "$@"', ['run', '--lang', 'python', '--code', echoInput]);
    assert.equal(piped.code, 2);
    assert.match(piped.stderr, /^error: stdin \(piped in\): is more than the 1048576-byte maximum\nhint: raise the maximum with --max-stdin/);
  });
});

describe('infra.operator run: limits and maxima like the API', () => {
  it('a limit above its maximum names the flag and the flag that raises the maximum', async () => {
    for (const [flag, value, maxFlag] of [
      ['--timeout', '100000', '--max-timeout <ms>'],
      ['--memory', '4096', '--max-memory <MB>'],
      ['--pids', '1000', '--max-pids <n>'],
      ['--output-limit', '100000000', '--max-output <bytes>'],
    ] as const) {
      const r = await cli(['run', '--lang', 'python', '--code', 'print(1)', flag, value]);
      assert.equal(r.code, 2, `${flag} ${value}`);
      assert.match(r.stderr, new RegExp(`^error: ${flag}: must be at most \\d+.*\nhint: raise the maximum with ${maxFlag.replace(/[<>]/g, '.')}\n$`));
      assert.doesNotMatch(r.stderr, /server/);
    }
  });

  it('raised maxima let the limits through, and each limit takes effect', async () => {
    const raised = await cli(['run', '--lang', 'python', '--code', 'print(1)', '--timeout', '100000', '--max-timeout', '120000', '--pids', '600', '--max-pids', '1024']);
    assert.deepEqual(raised, { code: 0, stdout: '1\n', stderr: '' });
    const capped = await cli(['run', '--lang', 'python', '--code', "print('z' * 100)", '--output-limit', '10']);
    assert.equal(capped.stdout, 'zzzzzzzzzz');
    assert.match(capped.stderr, /output truncated/);
    const threads = 'import threading, time\nfor i in range(32): threading.Thread(target=time.sleep, args=(2,), daemon=True).start()\nprint("all started")';
    const fewPids = await cli(['run', '--lang', 'python', '--code', threads, '--pids', '8']);
    assert.notEqual(fewPids.code, 0);
    assert.match(fewPids.stderr, /can't start new thread|Resource temporarily unavailable/);
    const env = await cli(['run', '--lang', 'bash', '--code', 'echo "$GREETING $OTHER"', '--env', 'GREETING=hello', '-e', 'OTHER=a=b']);
    assert.equal(env.stdout, 'hello a=b\n', env.stderr);
  });

  it('bad limit flags name the flag', async () => {
    for (const [args, message] of [
      [['--memory', '8'], /^error: --memory: must be at least 16\n/],
      [['--env', 'NOEQUALS'], /^error: --env: 'NOEQUALS' is not NAME=VALUE\n/],
      [['--env', '1X=y'], /^error: --env 1X: is not a valid variable name\n/],
      [['--max-timeout', 'later'], /^error: --max-timeout: 'later' is not a whole number\n/],
    ] as const) {
      const r = await cli(['run', '--lang', 'python', '--code', 'print(1)', ...args]);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, message);
    }
  });
});

describe('infra.operator run: one exit-code rule, with and without --json', () => {
  it('--json exits with the program\'s exit code, 128 + signal on a timeout, 2 on bad input', async () => {
    const failing = await cli(['run', '--lang', 'bash', '--code', 'exit 3', '--json']);
    assert.equal(failing.code, 3);
    assert.equal(JSON.parse(failing.stdout).exit_code, 3);
    const timedOut = await cli(['run', '--lang', 'bash', '--code', 'sleep 10', '--timeout', '300', '--json']);
    assert.equal(timedOut.code, 137);
    assert.equal(JSON.parse(timedOut.stdout).timed_out, true);
    const compile = await cli(['run', '--lang', 'c', '--code', 'int main(void) { return nope; }', '--json']);
    const result = JSON.parse(compile.stdout);
    assert.notEqual(result.compile.exit_code, 0);
    assert.equal(compile.code, result.exit_code);
    assert.equal((await cli(['run', '--lang', 'klingon', '--code', 'x', '--json'])).code, 2);
  });
});

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
