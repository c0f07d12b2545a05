/**
 * The cost of the request path, two checkouts side by side: `node dist/bench/http-path.js OLD[:HOME]
 * NEW[:HOME] [samples] [language]`, where OLD and NEW are built checkouts (`npm run build`) and HOME
 * their data dirs (RUNNER_CODES_HOME; default the environment's), and language one of the bench's
 * (python, the default; javascript; c: compile and run). Example, main against this tree:
 *
 *   node dist/bench/http-path.js /tmp/main:/var/cache/runner-codes .:/var/cache/rc-fastpath 100
 *
 * Three servers answer `POST /api/v1/execute` of the language's hello world (python `print(1)`)
 * over loopback, one request at a time, interleaved so that a shared machine's drift hits all alike:
 *
 * - floor: a bare node:http server that runs the bare equivalent on the host (the bench's own,
 *   src/bench/bench-languages.ts: `/usr/bin/python3 -c print(1)`, the image's node, the host's gcc)
 *   and answers a result of the same size: what HTTP and JSON cost here with nothing of ours in it;
 * - OLD and NEW: `infra.operator api` of each checkout, started as root (privilege-separated: the
 *   HTTP side in its own unprivileged process, the engine in this one's child), a warm pool of the language.
 *
 * After each request the bench waits, untimed, until that server's pool has refilled (the refill
 * and the used sandbox's teardown would otherwise run beside the next server's request, and the
 * server measured second would always pay for the first one's), and every other round goes
 * backwards (floor, OLD, NEW, then NEW, OLD, floor).
 *
 * For each: the client's p50, the server's own p50 (`timings.total_ms`: sandbox taken, program run,
 * result built; the floor's: the bare run), the p50 of the server's time outside the program's
 * stages (`total_ms − compile_ms − exec_ms`: the take, the agent's own work, the result), and HTTP/JSON = the p50 of client minus server, request by
 * request. Also the CPU the server's own processes (engine, HTTP side, fork server; not the sandboxes) spent per
 * request, its refill and teardown included (and the one or two `GET /api/v1/pool` of the wait).
 * Needs root.
 *
 * Per hop: a server that sends `x-hops` (CLOCK_MONOTONIC stamps of each hop, ms) gets a table of the
 * hops' p50s; the floor always does. To stamp a checkout's server, apply the instrumentation to a
 * copy of it and build: `git apply bench/http-path-hops.patch && npm run build` (not for production:
 * it only adds the stamps and the header).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Pool } from 'undici';
import { BENCH_LANGUAGES, type BenchLanguage } from '../src/bench/bench-languages.js';
import { percentile } from '../src/bench/stats.js';
import { dataPaths } from '../src/config/paths.js';
import { ImageStore } from '../src/images/store.js';

interface Target {
  label: string;
  url: string;
  /** The server's own processes, for their CPU. */
  pids: () => number[];
  stop: () => Promise<void>;
  /** Waits (untimed) until the server is idle again: its pool refilled, nothing of the last request still running. */
  settle?: () => Promise<void>;
}

interface Sample {
  client: number;
  server: number;
  /** The server's time outside the program's stages: total_ms − compile_ms − exec_ms. */
  outside: number;
  /** Per-hop stamps (CLOCK_MONOTONIC ms) when the server sends them (`x-hops`, RUNNER_CODES_HOPS=1). */
  hops?: Record<string, number>;
}

/** The stamps a server sends in `x-hops` (RUNNER_CODES_HOPS=1) and the client's own, in order. */
const HOPS: readonly [string, string, string][] = [
  ['t0', 't1', 'client sends -> onRequest (loopback, wake-up, HTTP parse, routing)'],
  ['t1', 't2', 'onRequest -> route handler (body parse, validation)'],
  ['t2', 't3', 'handler -> service call'],
  ['t3', 't4', 'service call -> engine process has it (IPC hop)'],
  ['t4', 't4b', 'engine has it -> Engine.execute starts (queue)'],
  ['t4b', 'p0', '  getLanguage'],
  ['p0', 'p1', '  normalizeRequest'],
  ['p1', 'p2', '  resolveLimits'],
  ['p2', 'p3', '  image manifest'],
  ['p3', 'ea', '  buildJob'],
  ['ea', 'tk', '  pool.take'],
  ['tk', 'eb', '  applyLimits'],
  ['t4b', 'ea', 'Engine.execute: request normalised, limits, job built'],
  ['ea', 'eb', 'sandbox taken from the pool, limits applied'],
  ['eb', 'sent', 'job frame written'],
  ['sent', 'got', 'the agent runs the job (files, hand-over, program, result frame)'],
  ['got', 'ran', 'result frame delivered'],
  ['ran', 'ec', 'host observations (cgroup stats), reconcile'],
  ['ec', 't5a', 'result built'],
  ['t4b', 't5a', 'Engine.execute (timings.total_ms and result built)'],
  ['t5a', 't5', 'result built -> result sent'],
  ['t5', 't6', 'result sent -> HTTP side has it (IPC hop)'],
  ['t6', 't7', 'HTTP side has it -> onSend (hooks, serialisation)'],
  ['t7', 't8', 'onSend -> client has the headers'],
  ['t8', 't9', 'client has the headers -> parsed body'],
  ['t1', 't7', 'onRequest -> onSend (the floor: request event -> writeHead)'],
  ['t0', 't9', 'total'],
];

/** Runs argv to its end; its stdout and exit code. */
function runStep(argv: string[]): Promise<{ stdout: string; code: number | null }> {
  return new Promise((done) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (data: Buffer) => (stdout += data.toString()));
    child.once('close', (code) => done({ stdout, code }));
  });
}

/** A floor: node:http in front of the bare interpreter (or compiler and program), answering a result-sized JSON body. */
async function startFloor(lang: BenchLanguage): Promise<Target> {
  const dir = mkdtempSync(join(tmpdir(), 'http-path-floor-'));
  for (const [name, content] of Object.entries(lang.files ?? {})) writeFileSync(join(dir, name), content);
  const steps = lang.bare(new ImageStore(dataPaths().imagesDir), dir);
  const server = createServer((req, res) => {
    const t1 = Number(process.hrtime.bigint()) / 1e6;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const started = performance.now();
      void (async () => {
        let last = { stdout: '', code: null as number | null };
        for (const argv of steps) last = await runStep(argv);
        const { stdout, code } = last;
        const total = performance.now() - started;
        const body = { trace_id: 'floor', status: 'success', language: lang.id, version: '3.11', stdout, stderr: '', exit_code: code, signal: null, timed_out: false, oom_killed: false, truncated: { stdout: false, stderr: false }, load_time: '0ms', exec_time: `${Math.round(total)}ms`, timings: { load_ms: 0, compile_ms: 0, exec_ms: total, total_ms: total }, cpu_time_ms: 0, memory_peak_bytes: 0, outputs: [], outputs_truncated: false };
        const t7 = Number(process.hrtime.bigint()) / 1e6;
        res.writeHead(200, { 'content-type': 'application/json', 'x-hops': JSON.stringify({ t1, t7 }) }).end(JSON.stringify(body));
      })();
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address() as { port: number };
  return { label: `floor (node:http + bare ${lang.id})`, url: `http://127.0.0.1:${address.port}`, pids: () => [], stop: () => new Promise((done) => server.close(() => done(rmSync(dir, { recursive: true, force: true })))) };
}

function childPids(pid: number): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        return readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]!.split(' ')[1] === String(pid);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** `infra.operator api` of a checkout, as root: the engine and, as its child, the HTTP side. */
async function startApi(label: string, spec: string, lang: BenchLanguage): Promise<Target> {
  const at = spec.indexOf(':');
  const dir = resolve(at < 0 ? spec : spec.slice(0, at));
  const cli = join(dir, 'dist', 'src', 'cli', 'index.js');
  if (!existsSync(cli)) throw new Error(`${label}: ${cli} is not built (npm run build in ${dir})`);
  const env = { ...process.env, ...(at < 0 ? {} : { RUNNER_CODES_HOME: spec.slice(at + 1) }) };
  const child: ChildProcess = spawn(process.execPath, [cli, 'api', '--port', '0', '--log-level', 'info', '--pool-warm', lang.id, '--pool-size', '2'], { stdio: ['ignore', 'pipe', 'inherit'], env });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const url = await new Promise<string>((done, fail) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(line);
      if (match) done(match[1]!);
    });
    void exited.then(() => fail(new Error(`${label}: the server exited before it listened`)));
  });
  child.stdout!.resume();
  const settle = async (): Promise<void> => {
    for (let tries = 0; ; tries++) {
      // A refill takes tens of ms: mostly one poll (an HTTP request of its own) per sample.
      await new Promise((done) => setTimeout(done, tries === 0 ? 100 : 20));
      const pool = (await (await fetch(`${url}/api/v1/pool`)).json()) as { idle_total: number };
      if (pool.idle_total >= 2) return;
      if (tries > 600) throw new Error(`${label}: the pool did not fill`);
    }
  };
  await settle();
  return {
    label: `${label} (${dir})`,
    url,
    settle,
    // The engine and its children of ours (the HTTP side, the fork server); not the sandboxes.
    pids: () => [child.pid!, ...childPids(child.pid!).filter((pid) => ['node', 'runner-forkserv'].includes(readFileSync(`/proc/${pid}/comm`, 'utf8').trim()))],
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** utime + stime of the processes, in ms (USER_HZ is 100). */
function cpuMs(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // gone
    }
  }
  return ticks * 10;
}

async function once(client: Pool, lang: BenchLanguage): Promise<Sample> {
  const started = performance.now();
  const t0 = Number(process.hrtime.bigint()) / 1e6;
  const res = await client.request({ method: 'POST', path: '/api/v1/execute', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ language: lang.id, code: lang.code }) });
  const t8 = Number(process.hrtime.bigint()) / 1e6;
  const body = (await res.body.json()) as { stdout?: string; timings?: { total_ms: number; compile_ms?: number; exec_ms?: number } };
  const client_ = performance.now() - started;
  const t9 = Number(process.hrtime.bigint()) / 1e6;
  const header = res.headers['x-hops'];
  const hops = typeof header === 'string' ? { t0, ...(JSON.parse(header) as Record<string, number>), t8, t9 } : undefined;
  if (res.statusCode !== 200 || body.stdout !== lang.stdout || !body.timings) throw new Error(`HTTP ${res.statusCode}: ${JSON.stringify(body).slice(0, 200)}`);
  const { total_ms, compile_ms = 0, exec_ms = 0 } = body.timings;
  return { client: client_, server: total_ms, outside: total_ms - compile_ms - exec_ms, ...(hops ? { hops } : {}) };
}

async function main(): Promise<void> {
  const [oldSpec, newSpec, count, language = 'python'] = process.argv.slice(2);
  const lang = BENCH_LANGUAGES[language];
  if (!oldSpec || !newSpec || !lang) throw new Error(`usage: node dist/bench/http-path.js OLD[:HOME] NEW[:HOME] [samples] [${Object.keys(BENCH_LANGUAGES).join('|')}]`);
  const samples = Number(count ?? 100);
  const targets = [await startFloor(lang), await startApi('OLD', oldSpec, lang), await startApi('NEW', newSpec, lang)];
  const clients = targets.map((target) => new Pool(target.url, { connections: 1 }));
  const results = targets.map(() => [] as Sample[]);
  const cpu = targets.map(() => 0);
  try {
    for (const client of clients) for (let i = 0; i < 5; i++) await once(client, lang);
    for (let i = 0; i < samples; i++) {
      // Every other round backwards (ABC CBA): no target always follows the same one.
      const order = [...clients.keys()];
      if (i % 2 === 1) order.reverse();
      for (const index of order) {
        const target = targets[index]!;
        const pids = target.pids();
        const before = cpuMs(pids);
        results[index]!.push(await once(clients[index]!, lang));
        // The refill and teardown of this request are the server's CPU too, but must not run
        // beside the next target's request: wait for them, untimed.
        await target.settle?.();
        cpu[index]! += cpuMs(pids) - before;
      }
    }
  } finally {
    await Promise.all(clients.map((client) => client.close()));
    await Promise.all(targets.map((target) => target.stop()));
  }
  const round = (x: number): string => x.toFixed(2);
  const p50 = (xs: number[]): number => percentile([...xs].sort((a, b) => a - b), 50);
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  console.log(`POST /api/v1/execute ${lang.id} hello world, ${samples} sequential requests each, interleaved; load average ${load}, ${spawnSync('nproc').stdout.toString().trim()} CPUs`);
  console.log(`${'server'.padEnd(34)} ${'client p50'.padStart(10)} ${'server p50'.padStart(10)} ${'outside stages p50'.padStart(18)} ${'HTTP/JSON p50'.padStart(13)} ${'server CPU/req'.padStart(14)}`);
  for (const [index, target] of targets.entries()) {
    const own = results[index]!;
    const http = p50(own.map((s) => s.client - s.server));
    const cpuPer = index === 0 ? '-' : `${round(cpu[index]! / samples)} ms`;
    console.log(`${target.label.slice(0, 34).padEnd(34)} ${round(p50(own.map((s) => s.client))).padStart(10)} ${round(p50(own.map((s) => s.server))).padStart(10)} ${(index === 0 ? '-' : round(p50(own.map((s) => s.outside)))).padStart(18)} ${round(http).padStart(13)} ${cpuPer.padStart(14)}`);
  }
  for (const [index, target] of targets.entries()) {
    const stamped = results[index]!.filter((s) => s.hops);
    if (stamped.length === 0) continue;
    console.log(`\nper hop, p50 ms (${stamped.length} stamped requests): ${target.label}`);
    for (const [from, to, what] of HOPS) {
      const gaps = stamped.filter((s) => s.hops![from] !== undefined && s.hops![to] !== undefined).map((s) => s.hops![to]! - s.hops![from]!);
      if (gaps.length > 0) console.log(`  ${what.padEnd(64)} ${round(p50(gaps)).padStart(7)}`);
    }
  }
}

await main();
