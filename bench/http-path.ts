/**
 * The cost of the request path, two checkouts side by side: `node dist/bench/http-path.js OLD[:HOME]
 * NEW[:HOME] [samples]`, where OLD and NEW are built checkouts (`npm run build`) and HOME their data
 * dirs (RUNNER_CODES_HOME; default the environment's). Example, main against this tree:
 *
 *   node dist/bench/http-path.js /tmp/main:/var/cache/runner-codes .:/var/cache/rc-fastpath 100
 *
 * Three servers answer `POST /api/v1/execute {python, print(1)}` over loopback, one request at a
 * time, interleaved (a, b, c, a, b, c, ...) so that a shared machine's drift hits all alike:
 *
 * - floor: a bare node:http server that runs `/usr/bin/python3 -c print(1)` on the host and answers
 *   a result of the same size: what HTTP and JSON cost on this machine with nothing of ours in it;
 * - OLD and NEW: `infra.operator api` of each checkout, started as root (privilege-separated: the
 *   HTTP side in its own unprivileged process, the engine in this one's child), a warm python pool.
 *
 * For each: the client's p50, the server's own p50 (`timings.total_ms`: sandbox taken, program run,
 * result built; the floor's: the bare run), and HTTP/JSON = the p50 of client minus server, request by
 * request. Also the CPU the server's own processes (engine, HTTP side, fork server; not the sandboxes) spent per
 * request: what forking the engine for each sandbox start costs shows here. Needs root.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { Pool } from 'undici';
import { percentile } from '../src/bench/stats.js';

interface Target {
  label: string;
  url: string;
  /** The server's own processes, for their CPU. */
  pids: () => number[];
  stop: () => Promise<void>;
}

interface Sample {
  client: number;
  server: number;
}

const PAYLOAD = JSON.stringify({ language: 'python', code: 'print(1)' });

/** A floor: node:http in front of the bare interpreter, answering a result-sized JSON body. */
async function startFloor(): Promise<Target> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const started = performance.now();
      const child = spawn('/usr/bin/python3', ['-c', 'print(1)'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      child.stdout.on('data', (data: Buffer) => (stdout += data.toString()));
      child.once('close', (code) => {
        const total = performance.now() - started;
        const body = { trace_id: 'floor', status: 'success', language: 'python', version: '3.11', stdout, stderr: '', exit_code: code, signal: null, timed_out: false, oom_killed: false, truncated: { stdout: false, stderr: false }, load_time: '0ms', exec_time: `${Math.round(total)}ms`, timings: { load_ms: 0, compile_ms: 0, exec_ms: total, total_ms: total }, cpu_time_ms: 0, memory_peak_bytes: 0, outputs: [], outputs_truncated: false };
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      });
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address() as { port: number };
  return { label: 'floor (node:http + bare python3)', url: `http://127.0.0.1:${address.port}`, pids: () => [], stop: () => new Promise((done) => server.close(() => done())) };
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
async function startApi(label: string, spec: string): Promise<Target> {
  const at = spec.indexOf(':');
  const dir = resolve(at < 0 ? spec : spec.slice(0, at));
  const cli = join(dir, 'dist', 'src', 'cli', 'index.js');
  if (!existsSync(cli)) throw new Error(`${label}: ${cli} is not built (npm run build in ${dir})`);
  const env = { ...process.env, ...(at < 0 ? {} : { RUNNER_CODES_HOME: spec.slice(at + 1) }) };
  const child: ChildProcess = spawn(process.execPath, [cli, 'api', '--port', '0', '--log-level', 'info', '--pool-warm', 'python', '--pool-size', '2'], { stdio: ['ignore', 'pipe', 'inherit'], env });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const url = await new Promise<string>((done, fail) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(line);
      if (match) done(match[1]!);
    });
    void exited.then(() => fail(new Error(`${label}: the server exited before it listened`)));
  });
  child.stdout!.resume();
  for (let tries = 0; ; tries++) {
    const pool = (await (await fetch(`${url}/api/v1/pool`)).json()) as { idle_total: number };
    if (pool.idle_total >= 2) break;
    if (tries > 600) throw new Error(`${label}: the pool did not fill`);
    await new Promise((done) => setTimeout(done, 50));
  }
  return {
    label: `${label} (${dir})`,
    url,
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

async function once(client: Pool): Promise<Sample> {
  const started = performance.now();
  const res = await client.request({ method: 'POST', path: '/api/v1/execute', headers: { 'content-type': 'application/json' }, body: PAYLOAD });
  const body = (await res.body.json()) as { stdout?: string; timings?: { total_ms: number } };
  const client_ = performance.now() - started;
  if (res.statusCode !== 200 || body.stdout !== '1\n' || !body.timings) throw new Error(`HTTP ${res.statusCode}: ${JSON.stringify(body).slice(0, 200)}`);
  return { client: client_, server: body.timings.total_ms };
}

async function main(): Promise<void> {
  const [oldSpec, newSpec, count] = process.argv.slice(2);
  if (!oldSpec || !newSpec) throw new Error('usage: node dist/bench/http-path.js OLD[:HOME] NEW[:HOME] [samples]');
  const samples = Number(count ?? 100);
  const targets = [await startFloor(), await startApi('OLD', oldSpec), await startApi('NEW', newSpec)];
  const clients = targets.map((target) => new Pool(target.url, { connections: 1 }));
  const results = targets.map(() => [] as Sample[]);
  const cpu = targets.map(() => 0);
  try {
    for (const client of clients) for (let i = 0; i < 5; i++) await once(client);
    for (let i = 0; i < samples; i++) {
      for (const [index, client] of clients.entries()) {
        const pids = targets[index]!.pids();
        const before = cpuMs(pids);
        results[index]!.push(await once(client));
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
  console.log(`POST /api/v1/execute python print(1), ${samples} sequential requests each, interleaved; load average ${load}, ${spawnSync('nproc').stdout.toString().trim()} CPUs`);
  console.log(`${'server'.padEnd(34)} ${'client p50'.padStart(10)} ${'server p50'.padStart(10)} ${'HTTP/JSON p50'.padStart(13)} ${'server CPU/req'.padStart(14)}`);
  for (const [index, target] of targets.entries()) {
    const own = results[index]!;
    const http = p50(own.map((s) => s.client - s.server));
    const cpuPer = index === 0 ? '-' : `${round(cpu[index]! / samples)} ms`;
    console.log(`${target.label.slice(0, 34).padEnd(34)} ${round(p50(own.map((s) => s.client))).padStart(10)} ${round(p50(own.map((s) => s.server))).padStart(10)} ${round(http).padStart(13)} ${cpuPer.padStart(14)}`);
  }
}

await main();
