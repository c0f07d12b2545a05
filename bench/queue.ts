/**
 * Queue mode's cost, side by side in one run: `npm run bench:queue [-- --json] [--pairs N] [--jobs M]`.
 *
 * 1. Overhead per job: the same program (`python`, echo its stdin) through POST /api/v1/execute of two
 *    in-process APIs — as deployed (started as root: the HTTP side unprivileged, the engine in the
 *    privileged process, one IPC hop each way) and in one process (`--api-uid 0`) — and of an API in
 *    queue mode (`api --queue`, one worker), one request at a time, rotating among the three so that
 *    the noise of a shared machine falls on all alike. All have the same warm pool and concurrency. The overhead is the queue's p50 minus the in-process p50, and
 *    the median of the paired differences (target: at most 3 ms). The same two figures for the time
 *    outside the engine (the reply's `timings.total_ms` taken off) leave out the engine's own noise.
 *    Before each timed request the bench waits, untimed, until every pool has refilled (the in-process
 *    API's GET /api/v1/pool, the worker's `runner_codes_worker_pool_idle`): otherwise each request
 *    runs beside the other server's refill (a sandbox start and an interpreter's start-up on the same
 *    two cores), and whichever went second pays for the first one's.
 *    The per-hop split comes from the queue API's and the worker's hop trace (src/queue/hop-trace.ts,
 *    one line per hop written to a file: a few microseconds).
 * 2. Throughput with 1 and then 2 workers (each `--concurrency 1`) on the same queue: M jobs sent 8 at
 *    a time. On one 2-core machine both workers share the same cores as the API, Redis and this load
 *    generator, so the ratio shows that BullMQ spreads a queue's jobs over the workers that serve it
 *    (two slots instead of one), not what a second host would add.
 *
 * Needs root (sandboxes), redis-server on PATH and the python image. Redis runs on a free loopback port
 * in a temporary directory, never on 6379.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CLI_PATH, startServerProcess, waitForPool, type ServerProcess } from '../src/bench/server-process.js';
import { summarize, type Summary } from '../src/bench/stats.js';
// Only the port finder: TestRedis itself ties its stop to node:test's after().
import { freePort } from '../test/helpers/redis-server.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const JSON_OUT = args.includes('--json');
const PAIRS = option('--pairs', 100);
const JOBS = option('--jobs', 120);
const CLIENTS = 8;
const TARGET_OVERHEAD_MS = 3;
const job = (i: number) => ({ language: 'python', code: 'print(input())', stdin: `job-${i}` });

/** A child process that is ready once its output matches `ready`. */
async function startProcess(command: string, argv: string[], ready: RegExp): Promise<{ child: ChildProcess; stop(): Promise<void> }> {
  const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${command} did not start:\n${log}`)), 60_000);
    const check = (chunk: Buffer): void => {
      log += chunk.toString();
      if (ready.test(log)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    child.stderr!.on('data', check);
    child.once('exit', (code) => reject(new Error(`${command} exited (${code}):\n${log}`)));
  });
  child.removeAllListeners('exit');
  return {
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

interface Timed {
  ms: number;
  engineMs: number;
  traceId: string;
}

/** One request: its time at the client, the engine's own (`timings.total_ms`) and its trace id. */
async function execute(url: string, body: unknown): Promise<Timed> {
  const started = performance.now();
  const res = await fetch(`${url}/api/v1/execute`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const reply = (await res.json()) as { status?: string; stdout?: string; trace_id?: string; timings?: { total_ms?: number } };
  if (res.status !== 200 || reply.status !== 'success') throw new Error(`execute failed (${res.status}): ${JSON.stringify(reply)}`);
  return { ms: performance.now() - started, engineMs: reply.timings?.total_ms ?? 0, traceId: reply.trace_id ?? '' };
}

const HOPS = [
  ['API: validate, route', 'api-start', 'api-add'],
  ['add -> worker starts it', 'api-add', 'worker-start'],
  ['worker runs it', 'worker-start', 'worker-end'],
  ['result -> API', 'worker-end', 'api-result'],
] as const;

/**
 * Median of each hop of the queued requests (src/queue/hop-trace.ts, by trace id), and the rest of
 * each request's time at the client: HTTP and Fastify, outside QueueService.execute.
 */
function hopSplit(trace: string, requests: Timed[]): { hop: string; p50_ms: number }[] {
  const jobs = new Map<string, Map<string, bigint>>();
  for (const line of trace.split('\n')) {
    const [at, hop, id] = line.split(' ');
    if (!at || !hop || !id) continue;
    const points = jobs.get(id) ?? new Map<string, bigint>();
    if (!points.has(hop)) points.set(hop, BigInt(at));
    jobs.set(id, points);
  }
  const ms = (points: Map<string, bigint>, from: string, to: string): number => Number(points.get(to)! - points.get(from)!) / 1e6;
  const traced = requests.flatMap((request) => {
    const points = jobs.get(request.traceId);
    return points && HOPS.every(([, from, to]) => points.has(from) && points.has(to)) ? [{ request, points }] : [];
  });
  if (traced.length === 0) return [];
  return [
    { hop: 'HTTP and Fastify', p50_ms: summarize(traced.map(({ request, points }) => request.ms - ms(points, 'api-start', 'api-result'))).p50 },
    ...HOPS.map(([hop, from, to]) => ({ hop, p50_ms: summarize(traced.map(({ points }) => ms(points, from, to))).p50 })),
  ];
}

/** M jobs, CLIENTS at a time: jobs per second. */
async function throughput(url: string, jobs: number): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (next < jobs) await execute(url, job(next++));
    }),
  );
  return Math.round((jobs / ((performance.now() - started) / 1000)) * 10) / 10;
}

const worker = async (redisUrl: string, id: string, metricsPort = 0) => ({
  ...(await startProcess(process.execPath, [CLI_PATH, 'worker', '--queue', redisUrl, '--backend', 'bwrap', '--languages', 'python', '--concurrency', '1', '--pool-size', '2', '--worker-id', id, '--metrics-host', '127.0.0.1', '--metrics-port', String(metricsPort)], /^worker \S+: queue/m)),
  metricsPort,
});

/** Polls `idle` until it reports `want` warm sandboxes (a refill takes tens of ms). */
async function until(idle: () => Promise<number>, want: number): Promise<void> {
  for (let tries = 0; tries < 1000; tries++) {
    await new Promise((done) => setTimeout(done, tries === 0 ? 50 : 10));
    if ((await idle()) >= want) return;
  }
  throw new Error('a pool did not refill within 10 s');
}

const localIdle = (url: string) => async (): Promise<number> => ((await (await fetch(`${url}/api/v1/pool`)).json()) as { idle_total: number }).idle_total;
const workerIdle = (port: number) => async (): Promise<number> => {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return Number(/^runner_codes_worker_pool_idle(?:\{[^}]*\})? (\d+)/m.exec(text)?.[1] ?? 0);
};

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'rc-bench-redis-'));
  const port = await freePort();
  const redis = await startProcess('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', '', '--maxmemory-policy', 'noeviction'], /Ready to accept connections/);
  const redisUrl = `redis://127.0.0.1:${port}`;
  // The queue API and the worker inherit it (the in-process API never loads the queue's code).
  const tracePath = join(dir, 'hops.log');
  // The queue API drops root (as deployed) and appends to it too: a file it may write, in a directory it may enter.
  chmodSync(dir, 0o711);
  writeFileSync(tracePath, '');
  chmodSync(tracePath, 0o666);
  process.env.RUNNER_CODES_QUEUE_TRACE = tracePath;
  const stops: (() => Promise<unknown>)[] = [redis.stop];
  try {
    // The in-process API as deployed (root: the HTTP side in its own unprivileged process, the engine
    // in the privileged one) and in one process (`--api-uid 0`, no IPC hop): the queue is measured
    // against both, in the same interleaved run.
    const inProcessArgs = ['--backend', 'bwrap', '--concurrency', '1', '--pool-size', '2', '--pool-warm', 'python'];
    const separated: ServerProcess = await startServerProcess(inProcessArgs);
    stops.unshift(separated.stop);
    const single: ServerProcess = await startServerProcess([...inProcessArgs, '--api-uid', '0']);
    stops.unshift(single.stop);
    await Promise.all([waitForPool(separated.url, 2), waitForPool(single.url, 2)]);
    const first = await worker(redisUrl, 'bench-w1', await freePort());
    stops.unshift(first.stop);
    // As deployed: as root it drops to the API's uid (nothing in queue mode needs root).
    const queued: ServerProcess = await startServerProcess(['--queue', redisUrl]);
    stops.unshift(queued.stop);

    const targets = [
      { label: 'in-process API (separated, as deployed)', url: separated.url, idle: localIdle(separated.url), times: [] as Timed[] },
      { label: 'in-process API (one process)', url: single.url, idle: localIdle(single.url), times: [] as Timed[] },
      { label: 'API --queue + worker', url: queued.url, idle: workerIdle(first.metricsPort), times: [] as Timed[] },
    ];
    for (let i = 0; i < 10; i++) await Promise.all(targets.map((t) => execute(t.url, job(i))));
    const warmedUp = readFileSync(tracePath, 'utf8').length;
    const settle = () => Promise.all(targets.map((t) => until(t.idle, 2)));
    for (let i = 0; i < PAIRS; i++) {
      // Rotate which goes first: drift and a warm-up advantage fall on all alike.
      for (let k = 0; k < targets.length; k++) {
        const target = targets[(i + k) % targets.length]!;
        await settle();
        target.times.push(await execute(target.url, job(i)));
      }
    }
    const [separatedTimes, singleTimes, viaQueue] = targets.map((t) => t.times) as [Timed[], Timed[], Timed[]];
    const hops = hopSplit(readFileSync(tracePath, 'utf8').slice(warmedUp), viaQueue);
    const overheadOf = (queue: number[], local: number[]) => ({
      p50_ms: Math.round((summarize(queue).p50 - summarize(local).p50) * 100) / 100,
      paired_median_ms: summarize(queue.map((q, i) => q - local[i]!)).p50,
    });
    const ms = (times: Timed[]) => times.map((r) => r.ms);
    const outside = (times: Timed[]) => times.map((r) => r.ms - r.engineMs);
    const comparisons: Comparison[] = [
      { against: 'separated', in_process_ms: summarize(ms(separatedTimes)), overhead_ms: overheadOf(ms(viaQueue), ms(separatedTimes)), outside_engine_ms: overheadOf(outside(viaQueue), outside(separatedTimes)), in_process_outside_p50_ms: summarize(outside(separatedTimes)).p50 },
      { against: 'one_process', in_process_ms: summarize(ms(singleTimes)), overhead_ms: overheadOf(ms(viaQueue), ms(singleTimes)), outside_engine_ms: overheadOf(outside(viaQueue), outside(singleTimes)), in_process_outside_p50_ms: summarize(outside(singleTimes)).p50 },
    ];
    const queue50 = summarize(ms(viaQueue));
    const engine = { separated_p50_ms: summarize(separatedTimes.map((r) => r.engineMs)).p50, one_process_p50_ms: summarize(singleTimes.map((r) => r.engineMs)).p50, worker_p50_ms: summarize(viaQueue.map((r) => r.engineMs)).p50 };

    const oneWorker = await throughput(queued.url, JOBS);
    const second = await worker(redisUrl, 'bench-w2');
    stops.unshift(second.stop);
    // The API's fleet view refreshes every second: let it see the second worker.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const twoWorkers = await throughput(queued.url, JOBS);
    report({ comparisons, viaQueue: queue50, engine, hops, oneWorker, twoWorkers });
  } finally {
    for (const stop of stops) await stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Overhead {
  p50_ms: number;
  paired_median_ms: number;
}

interface Comparison {
  against: 'separated' | 'one_process';
  in_process_ms: Summary;
  overhead_ms: Overhead;
  outside_engine_ms: Overhead;
  in_process_outside_p50_ms: number;
}

const within = (o: Overhead): boolean => o.paired_median_ms <= TARGET_OVERHEAD_MS && o.p50_ms <= TARGET_OVERHEAD_MS;

function report(r: { comparisons: Comparison[]; viaQueue: Summary; engine: { separated_p50_ms: number; one_process_p50_ms: number; worker_p50_ms: number }; hops: { hop: string; p50_ms: number }[]; oneWorker: number; twoWorkers: number }): void {
  const result = {
    program: 'python print(input()), warm pool of 2, one request at a time, each after every pool refilled',
    pairs: PAIRS,
    queue_ms: r.viaQueue,
    comparisons: r.comparisons.map((c) => ({ ...c, within_target: within(c.overhead_ms) })),
    overhead_target_ms: TARGET_OVERHEAD_MS,
    engine_ms: r.engine,
    queue_hops_p50_ms: r.hops,
    throughput: { jobs: JOBS, clients: CLIENTS, one_worker_per_s: r.oneWorker, two_workers_per_s: r.twoWorkers, ratio: Math.round((r.twoWorkers / r.oneWorker) * 100) / 100 },
    note: 'one 2-core machine shared with other work: the workers, API, Redis and load generator share its cores',
  };
  if (JSON_OUT) {
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    return;
  }
  const line = (label: string, s: Summary): string => `  ${label.padEnd(40)} p50 ${s.p50} ms  p95 ${s.p95} ms  (n ${s.n})`;
  const label = { separated: 'in-process API (separated, as deployed)', one_process: 'in-process API (one process, --api-uid 0)' } as const;
  process.stdout.write(
    [
      `queue overhead per job (${result.program}):`,
      ...r.comparisons.map((c) => line(label[c.against], c.in_process_ms)),
      line('API --queue + worker', r.viaQueue),
      ...r.comparisons.flatMap((c) => [
        `  against the ${label[c.against]}: p50 difference ${c.overhead_ms.p50_ms} ms, median of paired differences ${c.overhead_ms.paired_median_ms} ms (target <= ${TARGET_OVERHEAD_MS} ms: ${within(c.overhead_ms) ? 'met' : 'NOT met'})`,
        `    outside the engine (timings.total_ms taken off): p50 difference ${c.outside_engine_ms.p50_ms} ms, paired ${c.outside_engine_ms.paired_median_ms} ms; the in-process API outside its engine p50 ${c.in_process_outside_p50_ms} ms`,
      ]),
      `  engine p50: separated ${r.engine.separated_p50_ms} ms, one process ${r.engine.one_process_p50_ms} ms, worker ${r.engine.worker_p50_ms} ms`,
      `  queue API's request (p50 of each hop): ${r.hops.map((h) => `${h.hop} ${h.p50_ms} ms`).join('; ')}`,
      `throughput, ${JOBS} jobs, ${CLIENTS} clients, workers of --concurrency 1:`,
      `  1 worker  ${r.oneWorker} jobs/s`,
      `  2 workers ${r.twoWorkers} jobs/s  (x${result.throughput.ratio})`,
      `  ${result.note}`,
      '',
    ].join('\n'),
  );
}

await main();
