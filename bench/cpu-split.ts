/**
 * Where the machine's CPU goes per execution at N clients, bare python and one or more checkouts'
 * servers side by side: `node dist/bench/cpu-split.js [CHECKOUT[:HOME]]... [--seconds S]
 * [--clients N] [--slices K] [--server-arg ARG]... [--node-arg ARG]...`, CHECKOUT a built checkout (`npm run build`; default
 * this one), HOME its data dir (RUNNER_CODES_HOME; default the environment's), `+ARG+ARG` server
 * arguments of that target alone (`.+--concurrency+3`). Example:
 *
 *   node dist/bench/cpu-split.js /tmp/oldmain-r3 . --seconds 40
 *
 * Bare (`/usr/bin/python3 -c print(1)` spawned from here) and each server (`infra.operator api`, a
 * warm python pool of 2, `POST /api/v1/execute {python, print(1)}`) run N client loops in
 * alternating slices (bare, A, B, bare, A, B, …). Over each slice it reads the whole machine's CPU
 * (/proc/stat) and every process's (/proc/PID/stat), and charges it per completed execution to:
 * the server's engine process, its HTTP side, the fork server itself, the sandboxes (everything the
 * fork server or the engine started: runner-launch, bwrap, the agent, the interpreter — what their
 * reaped children add to `cutime`, plus the live ones' own), this load generator, kernel threads
 * (kworkers: network namespace clean-up, RCU), interrupts, and the rest of the machine (other work;
 * on a shared machine, that is others' load: quote the load average). Needs root.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { Pool } from 'undici';

const TICK_MS = 10; // USER_HZ 100
const PAYLOAD = JSON.stringify({ language: 'python', code: 'print(1)' });

interface Proc {
  pid: number;
  ppid: number;
  comm: string;
  /** utime + stime, ms. */
  own: number;
  /** cutime + cstime (reaped descendants), ms. */
  reaped: number;
}

function readProcs(): Map<number, Proc> {
  const out = new Map<number, Proc>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const text = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = text.lastIndexOf(')');
      const comm = text.slice(text.indexOf('(') + 1, close);
      const f = text.slice(close + 2).split(' ');
      out.set(Number(entry), { pid: Number(entry), ppid: Number(f[1]), comm, own: (Number(f[11]) + Number(f[12])) * TICK_MS, reaped: (Number(f[13]) + Number(f[14])) * TICK_MS });
    } catch {
      // gone
    }
  }
  return out;
}

function machine(): { busy: number; irq: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal
  return { busy: (f[0]! + f[1]! + f[2]! + f[5]! + f[6]!) * TICK_MS, irq: (f[5]! + f[6]!) * TICK_MS };
}

/** The processes below `root` (not itself). */
function below(procs: Map<number, Proc>, root: number): Proc[] {
  const children = new Map<number, Proc[]>();
  for (const p of procs.values()) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const out: Proc[] = [];
  const walk = (pid: number): void => {
    for (const c of children.get(pid) ?? []) {
      out.push(c);
      walk(c.pid);
    }
  };
  walk(root);
  return out;
}

interface Server {
  label: string;
  url: string;
  /** The server's (engine's) process. */
  pid: number;
  /** Its parent, a subreaper: what dies orphaned below the server (a sandbox's agent and interpreter, killed with bwrap) is reaped there. */
  reaper: number;
  child: ChildProcess;
}

/**
 * A subreaper that runs the server and reaps every orphan below it, so that their CPU lands in its
 * `cutime` (a sandbox's processes are killed all at once, bwrap with them, and would otherwise be
 * reparented to the host's init). SIGTERM goes on to the server.
 */
const SUBREAPER = `
import ctypes, os, signal, sys
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
signal.signal(signal.SIGTERM, lambda *_: os.kill(pid, signal.SIGTERM))
while True:
    try:
        if os.wait()[0] == pid: break
    except InterruptedError: pass
    except ChildProcessError: break
`;

async function startServer(checkout: string, home: string | undefined, extra: string[], nodeArgs: string[]): Promise<Server> {
  const cli = join(resolve(checkout), 'dist', 'src', 'cli', 'index.js');
  const env = { ...process.env, ...(home ? { RUNNER_CODES_HOME: home } : {}) };
  const child = spawn('/usr/bin/python3', ['-c', SUBREAPER, process.execPath, ...nodeArgs, cli, 'api', '--port', '0', '--log-level', 'info', '--pool-warm', 'python', '--pool-size', '2', '--queue-limit', '256', ...extra], { stdio: ['ignore', 'pipe', 'inherit'], env });
  const url = await new Promise<string>((done, fail) => {
    // A server that does not come up is stopped, not left behind.
    const stop = (err: Error): void => {
      child.kill('SIGTERM');
      fail(err);
    };
    const late = setTimeout(() => stop(new Error(`the server of ${checkout} did not listen`)), 30_000);
    late.unref();
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = /listening at (http:\/\/127\.0\.0\.1:\d+)/i.exec(line);
      if (m) {
        clearTimeout(late);
        done(m[1]!);
      }
    });
    child.once('exit', () => stop(new Error(`the server of ${checkout} exited`)));

  });
  child.stdout!.resume();
  const pid = [...readProcs().values()].find((p) => p.ppid === child.pid && p.comm === 'node')!.pid;
  return { label: `${checkout}${home ? `:${home}` : ''}`, url, pid, reaper: child.pid!, child };
}

/** CPU (ms) charged so far to each part of one server: cumulative, so two readings subtract. */
function serverParts(procs: Map<number, Proc>, server: Server): Record<string, number> {
  const engine = procs.get(server.pid);
  const parts: Record<string, number> = { engine: engine?.own ?? 0, 'http side': 0, 'fork server': 0, sandboxes: 0 };
  // What the engine reaped itself (spawned sandboxes, the HTTP side's predecessors) counts as sandboxes.
  parts.sandboxes! += (engine?.reaped ?? 0) + (procs.get(server.reaper)?.reaped ?? 0);
  for (const p of below(procs, server.pid)) {
    if (p.comm === 'node' && p.ppid === server.pid) parts['http side']! += p.own;
    else if (p.comm.startsWith('runner-forkserv')) {
      parts['fork server']! += p.own;
      parts.sandboxes! += p.reaped;
    } else parts.sandboxes! += p.own + p.reaped;
  }
  return parts;
}

function kernelThreads(procs: Map<number, Proc>): number {
  let sum = 0;
  for (const p of procs.values()) if (p.pid === 2 || p.ppid === 2) sum += p.own;
  return sum;
}

interface Reading {
  at: number;
  machine: { busy: number; irq: number };
  procs: Map<number, Proc>;
  self: number;
}

function reading(): Reading {
  const u = process.cpuUsage();
  return { at: performance.now(), machine: machine(), procs: readProcs(), self: (u.user + u.system) / 1000 };
}

type Row = Record<string, number>;

function delta(a: Reading, b: Reading, servers: Server[], target: Server | undefined, runs: number): Row {
  const per = (x: number): number => x / runs;
  const row: Row = { runs, seconds: (b.at - a.at) / 1000 };
  row['machine'] = per(b.machine.busy - a.machine.busy);
  row['interrupts'] = per(b.machine.irq - a.machine.irq);
  row['kernel threads'] = per(kernelThreads(b.procs) - kernelThreads(a.procs));
  row['load generator'] = per(b.self - a.self);
  const selfA = a.procs.get(process.pid)!;
  const selfB = b.procs.get(process.pid)!;
  // Bare runs are this process's children: reaped into its cutime.
  row['bare python'] = per(selfB.reaped - selfA.reaped);
  let attributed = row['interrupts']! + row['kernel threads']! + row['load generator']! + row['bare python']!;
  for (const s of servers) {
    const pa = serverParts(a.procs, s);
    const pb = serverParts(b.procs, s);
    for (const key of Object.keys(pb)) {
      const value = per(pb[key]! - pa[key]!);
      attributed += value;
      if (s === target) row[key] = value;
      else row['other servers'] = (row['other servers'] ?? 0) + value;
    }
  }
  row['rest of the machine'] = row['machine']! - attributed;
  return row;
}

async function loop(clients: number, ms: number, op: () => Promise<void>): Promise<number> {
  let done = 0;
  const deadline = performance.now() + ms;
  await Promise.all(Array.from({ length: clients }, async () => {
    while (performance.now() < deadline) {
      await op();
      done++;
    }
  }));
  return done;
}

function bare(): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn('/usr/bin/python3', ['-c', 'print(1)'], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8', HOME: '/tmp' } });
    child.stdout.resume();
    child.stderr.resume();
    child.once('close', (code) => (code === 0 ? done() : fail(new Error(`python3 exited ${code}`))));
  });
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const targets: string[] = [];
  const serverArgs: string[] = [];
  const nodeArgs: string[] = [];
  let seconds = 40;
  let clients = 4;
  let slices = 4;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--seconds') seconds = Number(args[++i]);
    else if (a === '--clients') clients = Number(args[++i]);
    else if (a === '--slices') slices = Number(args[++i]);
    else if (a === '--server-arg') serverArgs.push(args[++i]!);
    else if (a === '--node-arg') nodeArgs.push(args[++i]!);
    else targets.push(a);
  }
  if (targets.length === 0) targets.push('.');
  const servers: Server[] = [];
  try {
    for (const t of targets) {
      // CHECKOUT[:HOME][+ARG+ARG...]: ARGs for this server only (e.g. `.+--concurrency+3`).
      const [where, ...own] = t.split('+');
      const [checkout, home] = where!.split(':');
      servers.push(await startServer(checkout!, home, [...serverArgs, ...own], nodeArgs));
      servers[servers.length - 1]!.label = t;
    }
    const pools = servers.map((s) => new Pool(s.url, { connections: clients }));
    const ops = servers.map((s, i) => async () => {
      const res = await pools[i]!.request({ method: 'POST', path: '/api/v1/execute', headers: { 'content-type': 'application/json' }, body: PAYLOAD });
      const body = (await res.body.json()) as { stdout?: string };
      if (res.statusCode !== 200 || body.stdout !== '1\n') throw new Error(`${s.label}: HTTP ${res.statusCode} ${JSON.stringify(body).slice(0, 200)}`);
    });
    // Warm up: every server's pool and V8, bare's page cache.
    for (const op of ops) await loop(clients, 2000, op);
    await loop(clients, 1000, bare);
    const load0 = loadavg()[0]!;
    const names = ['bare', ...servers.map((s) => s.label)];
    const sums = names.map(() => new Map<string, number>());
    const sliceMs = (seconds * 1000) / slices;
    for (let k = 0; k < slices; k++) {
      for (const [index, name] of names.entries()) {
        const a = reading();
        const runs = await loop(clients, sliceMs, index === 0 ? bare : ops[index - 1]!);
        await new Promise((done) => setTimeout(done, 300)); // the last teardowns and deferred clean-up land
        const b = reading();
        const row = delta(a, b, servers, index === 0 ? undefined : servers[index - 1], runs);
        row['throughput'] = runs / (sliceMs / 1000);
        for (const [key, value] of Object.entries(row)) sums[index]!.set(key, (sums[index]!.get(key) ?? 0) + (key === 'runs' || key === 'seconds' ? value : value * runs));
        process.stderr.write(`slice ${k + 1}/${slices} ${name}: ${runs} runs, ${row['machine']!.toFixed(2)} ms CPU each\n`);
      }
    }
    await Promise.all(pools.map((p) => p.close()));
    const load1 = loadavg()[0]!;
    const report = names.map((name, i) => {
      const s = sums[i]!;
      const runs = s.get('runs')!;
      const row: Record<string, number> = {};
      for (const [key, value] of s) row[key] = key === 'runs' || key === 'seconds' ? value : Math.round((value / runs) * 100) / 100;
      row['throughput'] = Math.round((runs / (seconds)) * 10) / 10;
      return { name, row };
    });
    const bareRow = report[0]!.row;
    const keys = ['throughput', 'machine', 'bare python', 'sandboxes', 'engine', 'http side', 'fork server', 'load generator', 'kernel threads', 'interrupts', 'other servers', 'rest of the machine'];
    console.log(`ms of CPU per execution, ${clients} clients, ${seconds} s each in ${slices} slices; load average ${load0.toFixed(2)} → ${load1.toFixed(2)}`);
    console.log(['part'.padEnd(22), ...report.map((r) => r.name.slice(-28).padStart(28))].join(' '));
    for (const key of keys) console.log([key.padEnd(22), ...report.map((r) => (r.row[key] ?? '-').toString().padStart(28))].join(' '));
    for (const { name, row } of report.slice(1)) console.log(`${name}: throughput ${(row['throughput']! / bareRow['throughput']!).toFixed(3)} of bare; CPU per run ${(row['machine']! / bareRow['machine']!).toFixed(3)}× bare's`);
    console.log(JSON.stringify({ clients, seconds, slices, load: [load0, load1], report }));
  } finally {
    for (const s of servers) s.child.kill('SIGTERM');
  }
}

await main();
