import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataPaths } from '../config/paths.js';
import { Pool } from 'undici';
import { ImageStore } from '../images/store.js';
import { descendants, pssBytes, rssBytes } from './host-probe.js';
import { interleaved, interleavedConcurrent, sequential, type Operation } from './load.js';
import { CLI_PATH, startServerProcess, waitForPool } from './server-process.js';
import { summarize, type Summary } from './stats.js';

export interface BenchOptions {
  languages: readonly string[];
  /** Sequential samples per measurement. */
  samples: number;
  /** Duration of each concurrent run. */
  durationMs: number;
  concurrency: readonly number[];
  resultsDir: string;
  log: (line: string) => void;
}

interface BenchLanguage {
  id: string;
  code: string;
  stdout: string;
  /** The bare equivalent on the host with the image's own build, as argv steps run in `dir`. */
  bare(images: ImageStore, dir: string): string[][];
  /** Files the bare steps need in their own directory (one directory per run, so parallel runs never race). */
  files?: Record<string, string>;
}

const C_HELLO = '#include <stdio.h>\nint main(void) { puts("1"); return 0; }\n';

const LANGUAGES: Record<string, BenchLanguage> = {
  // Debian's python3 on the host is the same build as in the image (3.11.2); never a pyenv shim.
  python: { id: 'python', code: 'print(1)', stdout: '1\n', bare: () => [['/usr/bin/python3', '-c', 'print(1)']] },
  // The host's node is another build, so run the image's own node binary (chroot only changes the
  // root): Node.js from npm, linked as /usr/local/bin/node (the node image in catalog/images.ts).
  javascript: { id: 'javascript', code: 'console.log(1)', stdout: '1\n', bare: (images) => [['chroot', images.rootfs('node'), '/usr/local/bin/node', '-e', 'console.log(1)']] },
  // The host's gcc is the image's build (Debian 12.2.0): compile, then run, like the sandbox does.
  c: {
    id: 'c',
    code: C_HELLO,
    stdout: '1\n',
    files: { 'main.c': C_HELLO },
    bare: (_images, dir) => [
      ['gcc', '-O2', '-pipe', '-std=gnu17', '-o', join(dir, 'a.out'), join(dir, 'main.c'), '-lm'],
      [join(dir, 'a.out')],
    ],
  },
};

/** The environment every bare run gets: as clean as the sandbox's (no host variables such as NODE_OPTIONS). */
const BARE_ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8', HOME: '/tmp' };

function run(argv: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'ignore'], env: BARE_ENV });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${argv[0]} exited ${code}`))));
  });
}

/** Server-side timings of each warm request, to split the latency into its parts. */
interface ServerTimings {
  load_ms: number[];
  exec_ms: number[];
  total_ms: number[];
}

function httpOp(client: Pool, lang: BenchLanguage, timings?: ServerTimings): Operation {
  const payload = JSON.stringify({ language: lang.id, code: lang.code });
  return async () => {
    // undici's request API: the load generator shares the machine's cores, so it should cost little.
    const res = await client.request({ method: 'POST', path: '/api/v1/execute', headers: { 'content-type': 'application/json' }, body: payload });
    const body = (await res.body.json()) as { stdout?: string; timings?: { load_ms: number; compile_ms: number; exec_ms: number; total_ms: number } };
    if (res.statusCode !== 200 || body.stdout !== lang.stdout) throw new Error(`HTTP ${res.statusCode}: ${JSON.stringify(body).slice(0, 200)}`);
    if (timings && body.timings) {
      timings.load_ms.push(body.timings.load_ms);
      timings.exec_ms.push(body.timings.compile_ms + body.timings.exec_ms);
      timings.total_ms.push(body.timings.total_ms);
    }
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
  memory: { server_rss_bytes_idle: number; server_rss_bytes_after_load: number; idle_sandboxes: number; idle_sandbox_pss_bytes: number; idle_sandbox_cgroup_bytes: number };
  results_file: string;
}

const ratio = (a: number, b: number): number => Math.round((a / b) * 100) / 100;

/** Everything issue 4 asks to measure, side by side in one run. */
export async function runBenchmark(options: BenchOptions): Promise<BenchReport> {
  const { log } = options;
  const images = new ImageStore(dataPaths().imagesDir);
  const langs = options.languages.map((id) => {
    const lang = LANGUAGES[id];
    if (!lang) throw new Error(`no benchmark for '${id}' (have: ${Object.keys(LANGUAGES).join(', ')})`);
    return lang;
  });
  const dir = mkdtempSync(join(tmpdir(), 'rc-bench-'));
  const server = await startServerProcess(['--pool-warm', langs.map((l) => l.id).join(','), '--pool-size', '2', '--queue-limit', '256']);
  const client = new Pool(server.url, { connections: Math.max(...options.concurrency, 1) });
  const reports: LanguageReport[] = [];
  let memory: BenchReport['memory'];
  try {
    await waitForPool(server.url, langs.length * 2);
    const rssIdle = rssBytes(server.pid);
    const sandboxProcs = descendants(server.pid).filter((p) => p.comm === 'bwrap' || p.comm === 'runner-agent');
    const pool = (await (await fetch(`${server.url}/api/v1/pool`)).json()) as { idle_total: number; idle_memory_bytes: number };
    const idlePss = sandboxProcs.reduce((sum, p) => sum + pssBytes(p.pid), 0);

    for (const lang of langs) {
      let runs = 0;
      const bareOp: Operation = async () => {
        let runDir = dir;
        if (lang.files) {
          runDir = join(dir, String(runs++));
          mkdirSync(runDir);
          for (const [name, content] of Object.entries(lang.files)) writeFileSync(join(runDir, name), content);
        }
        for (const argv of lang.bare(images, runDir)) await run(argv);
        if (runDir !== dir) rmSync(runDir, { recursive: true, force: true });
      };
      const serverTimings: ServerTimings = { load_ms: [], exec_ms: [], total_ms: [] };
      const http = httpOp(client, lang);
      const measuredHttp = httpOp(client, lang, serverTimings);
      const cliOp: Operation = () => run([process.execPath, CLI_PATH, 'run', '--lang', lang.id, '--code', lang.code]);
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
        http_warm_breakdown: {
          client_ms: httpWarm.p50,
          server_total_ms: summarize(serverTimings.total_ms).p50,
          sandbox_load_ms: summarize(serverTimings.load_ms).p50,
          program_ms: summarize(serverTimings.exec_ms).p50,
        },
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
    };
  } finally {
    await client.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  await mkdir(options.resultsDir, { recursive: true });
  const startedAt = new Date().toISOString();
  const file = join(options.resultsDir, `bench-${startedAt.replace(/[:.]/g, '-')}.json`);
  const report: BenchReport = {
    started_at: startedAt,
    host: { cpus: (await import('node:os')).availableParallelism(), kernel: (await import('node:os')).release() },
    options: { samples: options.samples, duration_ms: options.durationMs, concurrency: options.concurrency },
    languages: reports,
    memory,
    results_file: file,
  };
  await writeFile(file, JSON.stringify(report, null, 2) + '\n');
  return report;
}

/** The report as a table for people. */
export function formatReport(report: BenchReport): string {
  const ms = (x: number): string => `${x.toFixed(1)}`.padStart(7);
  const lines = [
    `benchmark ${report.started_at} on ${report.host.cpus} CPUs (kernel ${report.host.kernel})`,
    '',
    `${'language'.padEnd(11)} ${'scenario'.padEnd(22)} ${'p50 ms'.padStart(7)} ${'p95 ms'.padStart(7)} ${'p99 ms'.padStart(7)} ${'req/s'.padStart(7)}  ratio to bare`,
  ];
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
  lines.push(
    '',
    `server RSS: ${mib(report.memory.server_rss_bytes_idle)} idle, ${mib(report.memory.server_rss_bytes_after_load)} after load`,
    `idle pooled sandbox: ${mib(report.memory.idle_sandbox_pss_bytes)} PSS of its processes (bwrap + agent), ${mib(report.memory.idle_sandbox_cgroup_bytes)} charged to its cgroup (${report.memory.idle_sandboxes} idle)`,
    `results: ${report.results_file}`,
  );
  return lines.join('\n');
}
