/**
 * A pool of pre-started node sandboxes: their idle memory, then the warm latency of two programs
 * (docs/prestart.md, "Node's idle memory"). `node dist/bench/node-idle.js [POOL [SAMPLES]]`, e.g.
 * `node dist/bench/node-idle.js 4 30`. One engine in this process (bwrap), a warm pool of POOL
 * javascript sandboxes; once all are idle it prints per sandbox (bwrap + agent + node) PSS and
 * private memory and the cgroup's charge, and for the waiting node alone its PSS, private memory,
 * anonymous memory and the pages of its binary it maps, with how many host processes share that
 * binary (PSS divides its pages between them). Then SAMPLES runs each of a hello world and a
 * heavier program (JSON, a hash, a sort), each from a pooled sandbox: the p50 of their wall time
 * and of their CPU time (`cpu_time_ms`, the program's own: steadier than wall on a loaded host). Run it from two
 * trees alternately to compare bootstraps; it prints one JSON line at the end for the record.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { exeSharers, memoryCgroupOf, cgroupMemory, pssBytes, privateBytes, sandboxProcessesOf } from '../src/bench/host-probe.js';
import { percentile } from '../src/bench/stats.js';
import { openEngine } from '../src/compose/open-engine.js';
import type { Engine } from '../src/engine/engine.js';
import { ownerOf } from '../src/sandbox/names.js';

const poolSize = Number(process.argv[2] ?? 2);
const samples = Number(process.argv[3] ?? 20);
const IMAGE = 'node';

const PROGRAMS: Record<string, { code: string; stdout: RegExp }> = {
  hello: { code: 'console.log(1)\n', stdout: /^1\n$/ },
  heavy: {
    code:
      "const crypto = require('crypto');\n" +
      "const rows = []; for (let i = 0; i < 20000; i++) rows.push({ id: i, name: 'n' + (i * 7919 % 20000), tags: [i % 3, i % 5] });\n" +
      'const text = JSON.stringify(rows);\n' +
      'const back = JSON.parse(text).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));\n' +
      "console.log(back.length, crypto.createHash('sha256').update(text).digest('hex').slice(0, 8));\n",
    stdout: /^20000 [0-9a-f]{8}\n$/,
  },
};

function fail(message: string): never {
  process.stderr.write(`bench node-idle: ${message}\n`);
  process.exit(2);
}

const kib = (bytes: number): number => Math.round(bytes / 1024);
const mib = (bytes: number): string => (bytes / 1048576).toFixed(2);

/** Sum of a field of /proc/PID/smaps_rollup, or over the mappings of smaps whose path matches. */
function smapsField(pid: number, field: string, mapping?: RegExp): number {
  if (!mapping) return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0) * 1024;
  let sum = 0;
  let inside = false;
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) inside = mapping.test(head[1]!);
    else if (inside && line.startsWith(`${field}:`)) sum += Number(/(\d+) kB/.exec(line)?.[1] ?? 0) * 1024;
  }
  return sum;
}

async function untilIdle(engine: Engine, count: number): Promise<void> {
  for (let i = 0; i < 6000; i++) {
    if ((engine.pool!.stats().images.find((p) => p.image === IMAGE)?.idle ?? 0) >= count) return;
    await sleep(10);
  }
  fail(`fewer than ${count} pooled ${IMAGE} sandboxes within 60 s`);
}

interface Idle {
  sandboxes: number;
  sandbox_pss_kib: number;
  sandbox_private_kib: number;
  cgroup_kib: number;
  node_pss_kib: number;
  node_private_kib: number;
  node_anon_kib: number;
  node_binary_rss_kib: number;
  binary_sharers: number;
}

function idleMemory(): Idle {
  const bySandbox = new Map<string, number[]>();
  for (const pid of sandboxProcessesOf(process.pid, ownerOf)) {
    const cgroup = memoryCgroupOf(pid);
    if (cgroup) bySandbox.set(cgroup, [...(bySandbox.get(cgroup) ?? []), pid]);
  }
  const comm = (pid: number): string => readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  const sum = { pss: 0, priv: 0, cgroup: 0, nodePss: 0, nodePriv: 0, nodeAnon: 0, nodeBin: 0, sharers: 0 };
  for (const [cgroup, pids] of bySandbox) {
    // Node names its main thread, and so the process: node-MainThread.
    const node = pids.find((pid) => !['bwrap', 'runner-agent', 'runner-launch'].includes(comm(pid)));
    if (node === undefined) fail(`sandbox ${cgroup} has no waiting node`);
    sum.pss += pids.reduce((s, pid) => s + pssBytes(pid), 0);
    sum.priv += pids.reduce((s, pid) => s + privateBytes(pid), 0);
    sum.cgroup += cgroupMemory(cgroup).chargedBytes;
    sum.nodePss += pssBytes(node);
    sum.nodePriv += privateBytes(node);
    sum.nodeAnon += smapsField(node, 'Anonymous');
    sum.nodeBin += smapsField(node, 'Rss', /\/bin\/node$/);
    sum.sharers = Math.max(sum.sharers, exeSharers(node));
  }
  const n = bySandbox.size;
  return {
    sandboxes: n,
    sandbox_pss_kib: kib(sum.pss / n),
    sandbox_private_kib: kib(sum.priv / n),
    cgroup_kib: kib(sum.cgroup / n),
    node_pss_kib: kib(sum.nodePss / n),
    node_private_kib: kib(sum.nodePriv / n),
    node_anon_kib: kib(sum.nodeAnon / n),
    node_binary_rss_kib: kib(sum.nodeBin / n),
    binary_sharers: sum.sharers,
  };
}

const engine = await openEngine({ backend: 'bwrap', pool: { defaultSize: poolSize, warm: [IMAGE], maxIdle: poolSize, idleTtlMs: 600_000, shrinkAfterMs: 600_000, prestart: true } });
try {
  await untilIdle(engine, poolSize);
  await sleep(1000); // the last interpreter's start-up settles
  const load0 = loadavg()[0]!;
  const idle = idleMemory();
  process.stdout.write(
    `node-idle: pool of ${idle.sandboxes}, load ${load0.toFixed(2)}; per idle sandbox PSS ${mib(idle.sandbox_pss_kib * 1024)} MiB, private ${mib(idle.sandbox_private_kib * 1024)}, ` +
      `cgroup ${mib(idle.cgroup_kib * 1024)}; node PSS ${mib(idle.node_pss_kib * 1024)}, private ${mib(idle.node_private_kib * 1024)}, anonymous ${mib(idle.node_anon_kib * 1024)}, ` +
      `binary mapped ${mib(idle.node_binary_rss_kib * 1024)} MiB shared by ${idle.binary_sharers} processes\n`,
  );
  const p50: Record<string, number> = {};
  const cpuP50: Record<string, number> = {};
  let prestarted = engine.prestartedRuns;
  for (const [name, program] of Object.entries(PROGRAMS)) {
    const times: number[] = [];
    const cpus: number[] = [];
    for (let i = -3; i < samples; i++) {
      await untilIdle(engine, 1);
      await sleep(20);
      const started = performance.now();
      const result = await engine.execute({ language: 'javascript', code: program.code });
      const elapsed = performance.now() - started;
      if (result.status !== 'success' || result.exit_code !== 0 || !program.stdout.test(result.stdout)) fail(`${name}: ${JSON.stringify(result).slice(0, 400)}`);
      if (i >= 0) {
        times.push(elapsed);
        cpus.push(result.cpu_time_ms);
      }
    }
    p50[name] = percentile([...times].sort((a, b) => a - b), 50);
    cpuP50[name] = percentile([...cpus].sort((a, b) => a - b), 50);
    process.stdout.write(`  ${name.padEnd(6)} warm p50 ${p50[name]!.toFixed(2)} ms, the program's CPU p50 ${cpuP50[name]!.toFixed(2)} ms (${samples} runs)\n`);
  }
  prestarted = engine.prestartedRuns - prestarted;
  const load1 = loadavg()[0]!;
  process.stdout.write(`  pre-started ${prestarted} of ${2 * (samples + 3)} runs; load at the end ${load1.toFixed(2)}\n`);
  process.stdout.write(JSON.stringify({ pool: poolSize, load: [load0, load1], idle, p50_ms: p50, cpu_p50_ms: cpuP50, prestarted }) + '\n');
} finally {
  await engine.close();
}
