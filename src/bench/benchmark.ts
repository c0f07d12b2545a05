import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataPaths } from '../config/paths.js';
import { Pool } from 'undici';
import { ImageStore } from '../images/store.js';
import { BENCH_LANGUAGES, runBare, type BenchLanguage } from './bench-languages.js';
import { cgroupMemory, descendants, exeSharers, memoryCgroupOf, privateBytes, pssBytes, rssBytes } from './host-probe.js';
import { interleaved, interleavedConcurrent, sequential, type Operation } from './load.js';
import { CLI_PATH, startServerProcess, waitForPool } from './server-process.js';
import { runSessionsBench, formatSessions, type SessionsReport } from './sessions-bench.js';
import { ServerTimings, type ResultTimings } from './server-timings.js';
import { ratio, summarize, type Summary } from './stats.js';

export interface BenchOptions {
  languages: readonly string[];
  /** Sequential samples per measurement. */
  samples: number;
  /** Duration of each concurrent run. */
  durationMs: number;
  concurrency: readonly number[];
  /** Also measure sessions (issue 14's targets; sessions-bench.ts). */
  sessions: boolean;
  resultsDir: string;
  log: (line: string) => void;
}

function httpOp(client: Pool, lang: BenchLanguage, timings?: ServerTimings): Operation {
  const payload = JSON.stringify({ language: lang.id, code: lang.code });
  return async () => {
    // undici's request API: the load generator shares the machine's cores, so it should cost little.
    const res = await client.request({ method: 'POST', path: '/api/v1/execute', headers: { 'content-type': 'application/json' }, body: payload });
    const body = (await res.body.json()) as { stdout?: string; timings?: ResultTimings };
    if (res.statusCode !== 200 || body.stdout !== lang.stdout) throw new Error(`HTTP ${res.statusCode}: ${JSON.stringify(body).slice(0, 200)}`);
    if (timings && body.timings) timings.record(body.timings);
  };
}

export interface LanguageReport {
  language: string;
  bare: Summary;
  bare_throughput: Record<string, number>;
  cli_cold: Summary;
  http_warm: Summary;
  /** Medians of the warm sequential requests: where the time goes. */
  http_warm_breakdown: { client_ms: number; server_total_ms: number; sandbox_load_ms: number; program_ms: number };
  http_concurrent: Record<string, { latency: Summary; throughput: number; failures: number }>;
  ratios: { warm_p50_to_bare_p50: number; cli_p50_to_bare_p50: number; throughput_to_bare: Record<string, number> };
}

export interface BenchReport {
  started_at: string;
  host: { cpus: number; kernel: string };
  options: { samples: number; duration_ms: number; concurrency: readonly number[] };
  languages: LanguageReport[];
  /** Absent when no language was measured. */
  memory?: PoolMemory;
  sessions?: SessionsReport;
  results_file: string;
}

interface PoolMemory {
  server_rss_bytes_idle: number;
  server_rss_bytes_after_load: number;
  idle_sandboxes: number;
  idle_sandbox_pss_bytes: number;
  idle_sandbox_cgroup_bytes: number;
  /** Per waiting interpreter (its process name; `none` for a sandbox without one): one idle sandbox's memory. */
  idle_by_interpreter: Record<string, IdleSandboxMemory>;
}

/** Means over the idle sandboxes of one interpreter (issue 17: PSS <= 12 MiB in this pool). */
interface IdleSandboxMemory {
  sandboxes: number;
  /** bwrap + agent + interpreter, from smaps_rollup. */
  pss_bytes: number;
  /** Pages only this sandbox's processes map: what one more sandbox really adds. */
  private_bytes: number;
  /** Its cgroup's charge: what the pool's memory budget counts for it. */
  cgroup_bytes: number;
  /** Host processes running the interpreter's binary: how many its file pages are shared by. */
  binary_sharers: number;
  pss_target_met: boolean;
}

const IDLE_PSS_TARGET_BYTES = 12 * 1024 * 1024;

/** The idle sandboxes' processes grouped by sandbox (cgroup), measured per waiting interpreter. */
function idleByInterpreter(procs: { pid: number; comm: string }[]): Record<string, IdleSandboxMemory> {
  const sandboxes = new Map<string, { pid: number; comm: string }[]>();
  for (const p of procs) {
    const cgroup = memoryCgroupOf(p.pid);
    if (cgroup) sandboxes.set(cgroup, [...(sandboxes.get(cgroup) ?? []), p]);
  }
  const out: Record<string, IdleSandboxMemory> = {};
  for (const [cgroup, members] of sandboxes) {
    const interpreter = members.find((p) => !['bwrap', 'runner-agent', 'runner-launch'].includes(p.comm));
    const key = interpreter?.comm ?? 'none';
    const m = (out[key] ??= { sandboxes: 0, pss_bytes: 0, private_bytes: 0, cgroup_bytes: 0, binary_sharers: 0, pss_target_met: false });
    m.sandboxes++;
    m.pss_bytes += members.reduce((sum, p) => sum + pssBytes(p.pid), 0);
    m.private_bytes += members.reduce((sum, p) => sum + privateBytes(p.pid), 0);
    m.cgroup_bytes += cgroupMemory(cgroup).chargedBytes;
    m.binary_sharers = Math.max(m.binary_sharers, interpreter ? exeSharers(interpreter.pid) : 0);
  }
  for (const m of Object.values(out)) {
    for (const k of ['pss_bytes', 'private_bytes', 'cgroup_bytes'] as const) m[k] = Math.round(m[k] / m.sandboxes);
    m.pss_target_met = m.pss_bytes <= IDLE_PSS_TARGET_BYTES;
  }
  return out;
}

/** Everything issue 4 asks to measure, side by side in one run; then issue 14's sessions. */
export async function runBenchmark(options: BenchOptions): Promise<BenchReport> {
  const langs = options.languages.map((id) => {
    const lang = BENCH_LANGUAGES[id];
    if (!lang) throw new Error(`no benchmark for '${id}' (have: ${Object.keys(BENCH_LANGUAGES).join(', ')})`);
    return lang;
  });
  const measured = langs.length > 0 ? await measureLanguages(langs, options) : undefined;
  const sessions = options.sessions ? await runSessionsBench({ samples: options.samples, log: options.log }) : undefined;
  await mkdir(options.resultsDir, { recursive: true });
  const startedAt = new Date().toISOString();
  const file = join(options.resultsDir, `bench-${startedAt.replace(/[:.]/g, '-')}.json`);
  const report: BenchReport = {
    started_at: startedAt,
    host: { cpus: (await import('node:os')).availableParallelism(), kernel: (await import('node:os')).release() },
    options: { samples: options.samples, duration_ms: options.durationMs, concurrency: options.concurrency },
    languages: measured?.reports ?? [],
    ...(measured ? { memory: measured.memory } : {}),
    ...(sessions ? { sessions } : {}),
    results_file: file,
  };
  await writeFile(file, JSON.stringify(report, null, 2) + '\n');
  return report;
}

/** Bare vs cold CLI vs warm HTTP, sequential and concurrent, per language; the pool's memory. */
async function measureLanguages(langs: BenchLanguage[], options: BenchOptions): Promise<{ reports: LanguageReport[]; memory: PoolMemory }> {
  const { log } = options;
  const images = new ImageStore(dataPaths().imagesDir);
  const dir = mkdtempSync(join(tmpdir(), 'rc-bench-'));
  const server = await startServerProcess(['--pool-warm', langs.map((l) => l.id).join(','), '--pool-size', '2', '--queue-limit', '256']);
  const client = new Pool(server.url, { connections: Math.max(...options.concurrency, 1) });
  const reports: LanguageReport[] = [];
  let memory: PoolMemory;
  try {
    await waitForPool(server.url, langs.length * 2);
    const rssIdle = rssBytes(server.pid);
    // Every process of the idle sandboxes (their cgroups): bwrap, the agent, a pre-started interpreter.
    const sandboxProcs = descendants(server.pid).filter((p) => /\/rc-[^/]+$/.test(memoryCgroupOf(p.pid) ?? ''));
    const pool = (await (await fetch(`${server.url}/api/v1/pool`)).json()) as { idle_total: number; idle_memory_bytes: number };
    const idlePss = sandboxProcs.reduce((sum, p) => sum + pssBytes(p.pid), 0);
    const idleEach = idleByInterpreter(sandboxProcs);

    for (const lang of langs) {
      let runs = 0;
      const bareOp: Operation = async () => {
        let runDir = dir;
        if (lang.files) {
          runDir = join(dir, String(runs++));
          mkdirSync(runDir);
          for (const [name, content] of Object.entries(lang.files)) writeFileSync(join(runDir, name), content);
        }
        for (const argv of lang.bare(images, runDir)) await runBare(argv);
        if (runDir !== dir) rmSync(runDir, { recursive: true, force: true });
      };
      const serverTimings = new ServerTimings();
      const http = httpOp(client, lang);
      const measuredHttp = httpOp(client, lang, serverTimings);
      // The cold CLI must use the same data home as the server (its agent, its images).
      const cliOp: Operation = () => runBare([process.execPath, CLI_PATH, 'run', '--lang', lang.id, '--code', lang.code], { RUNNER_CODES_HOME: dataPaths().root });
      await interleaved([bareOp, http], 5);
      log(`[${lang.id}] bare and http warm, ${options.samples} sequential each, interleaved`);
      const [bareSamples, httpSamples] = await interleaved([bareOp, measuredHttp], options.samples);
      const bare = summarize(bareSamples!);
      const httpWarm = summarize(httpSamples!);
      log(`[${lang.id}] cli cold (${Math.ceil(options.samples / 5)} sequential)`);
      const cliCold = summarize(await sequential(cliOp, Math.ceil(options.samples / 5)));
      const httpConcurrent: LanguageReport['http_concurrent'] = {};
      const bareThroughput: Record<string, number> = {};
      for (const clients of options.concurrency) {
        log(`[${lang.id}] http and bare, ${clients} clients, ${options.durationMs / 1000} s each, in alternating slices`);
        const [c, b] = await interleavedConcurrent([http, bareOp], clients, options.durationMs);
        httpConcurrent[String(clients)] = { latency: summarize(c!.samples), throughput: c!.throughput, failures: c!.failures };
        bareThroughput[String(clients)] = b!.throughput;
      }
      reports.push({
        language: lang.id,
        bare,
        bare_throughput: bareThroughput,
        cli_cold: cliCold,
        http_warm: httpWarm,
        http_warm_breakdown: (({ load_ms, ...split }) => ({ ...split, sandbox_load_ms: load_ms }))(serverTimings.split(httpWarm.p50)),
        http_concurrent: httpConcurrent,
        ratios: {
          warm_p50_to_bare_p50: ratio(httpWarm.p50, bare.p50),
          cli_p50_to_bare_p50: ratio(cliCold.p50, bare.p50),
          throughput_to_bare: Object.fromEntries(options.concurrency.map((c) => [String(c), ratio(httpConcurrent[String(c)]!.throughput, bareThroughput[String(c)]!)])),
        },
      });
    }
    memory = {
      server_rss_bytes_idle: rssIdle,
      server_rss_bytes_after_load: rssBytes(server.pid),
      idle_sandboxes: pool.idle_total,
      idle_sandbox_pss_bytes: Math.round(idlePss / Math.max(1, pool.idle_total)),
      idle_sandbox_cgroup_bytes: Math.round(pool.idle_memory_bytes / Math.max(1, pool.idle_total)),
      idle_by_interpreter: idleEach,
    };
  } finally {
    await client.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return { reports, memory };
}

/** The report as a table for people. */
export function formatReport(report: BenchReport): string {
  const ms = (x: number): string => `${x.toFixed(1)}`.padStart(7);
  const lines = [`benchmark ${report.started_at} on ${report.host.cpus} CPUs (kernel ${report.host.kernel})`];
  if (report.languages.length > 0) {
    lines.push('', `${'language'.padEnd(11)} ${'scenario'.padEnd(22)} ${'p50 ms'.padStart(7)} ${'p95 ms'.padStart(7)} ${'p99 ms'.padStart(7)} ${'req/s'.padStart(7)}  ratio to bare`);
  }
  for (const l of report.languages) {
    const row = (name: string, s: Summary, rps = '', r = ''): string => `${l.language.padEnd(11)} ${name.padEnd(22)} ${ms(s.p50)} ${ms(s.p95)} ${ms(s.p99)} ${rps.padStart(7)}  ${r}`;
    lines.push(row('bare (host)', l.bare));
    lines.push(row('cli run (cold)', l.cli_cold, '', `p50 ×${l.ratios.cli_p50_to_bare_p50}`));
    lines.push(row('http warm sequential', l.http_warm, '', `p50 ×${l.ratios.warm_p50_to_bare_p50}`));
    const b = l.http_warm_breakdown;
    lines.push(`${''.padEnd(11)}   p50 split: client ${b.client_ms} ms = server ${b.server_total_ms} ms (take sandbox ${b.sandbox_load_ms} ms, program in sandbox ${b.program_ms} ms) + HTTP/JSON ${Math.round((b.client_ms - b.server_total_ms) * 100) / 100} ms`);
    for (const [clients, c] of Object.entries(l.http_concurrent)) {
      lines.push(row(`http ${clients} clients`, c.latency, String(c.throughput), `throughput ${l.ratios.throughput_to_bare[clients]} of bare (${l.bare_throughput[clients]} req/s)${c.failures ? `, ${c.failures} failures` : ''}`));
    }
  }
  const mib = (b: number): string => `${(b / 1048576).toFixed(2)} MiB`;
  const { memory, sessions } = report;
  if (memory) {
    lines.push(
      '',
      `server RSS: ${mib(memory.server_rss_bytes_idle)} idle, ${mib(memory.server_rss_bytes_after_load)} after load`,
      `idle pooled sandbox: ${mib(memory.idle_sandbox_pss_bytes)} PSS of its processes (bwrap + agent + interpreter), ${mib(memory.idle_sandbox_cgroup_bytes)} charged to its cgroup (${memory.idle_sandboxes} idle)`,
    );
    for (const [interpreter, m] of Object.entries(memory.idle_by_interpreter)) {
      lines.push(
        `  ${interpreter.padEnd(16)} ${m.sandboxes} idle: PSS ${mib(m.pss_bytes)} each (target <= ${mib(IDLE_PSS_TARGET_BYTES)}: ${m.pss_target_met ? 'met' : 'NOT met'}), private ${mib(m.private_bytes)}, charged ${mib(m.cgroup_bytes)}; binary shared by ${m.binary_sharers} processes on the host`,
      );
    }
  }
  if (sessions) lines.push('', formatSessions(sessions));
  lines.push(`results: ${report.results_file}`);
  return lines.join('\n');
}
