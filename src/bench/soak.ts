import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openCgroupDriver } from '../sandbox/cgroup/detect.js';
import { ownerOf } from '../sandbox/names.js';
import { descendants, hostMountCount, openFds, rssBytes, sandboxProcessesOf } from './host-probe.js';
import { startServerProcess, waitForPool } from './server-process.js';

export interface SoakSample {
  after: number;
  sandbox_processes: number;
  cgroups: number;
  host_mounts: number;
  server_fds: number;
  server_rss_bytes: number;
}

export interface SoakReport {
  executions: number;
  failures: number;
  seconds: number;
  samples: SoakSample[];
  /**
   * Everything countable stayed within the pool's own bounds, fds did not grow, and RSS did not
   * keep growing after warm-up (see rssGrowth).
   */
  leak_free: boolean;
  /** RSS growth over the later samples (from 60% of the run on), fitted, as a share of their mean. */
  rss_growth_after_warmup: number;
  results_file: string;
}

/**
 * Many sequential executions through the HTTP API with a warm pool, sampling what could leak. The
 * counts may move within the pool's size (sandboxes being refilled); they must not grow.
 */
export async function runSoak(options: { executions: number; resultsDir: string; log: (line: string) => void }): Promise<SoakReport> {
  const poolSize = 2;
  const server = await startServerProcess(['--pool-warm', 'python', '--pool-size', String(poolSize)]);
  const cgroups = openCgroupDriver();
  const samples: SoakSample[] = [];
  let failures = 0;
  const started = Date.now();
  const sample = (after: number): void => {
    // The launchers, and every process in one of this server's sandbox cgroups (bwrap, the agent, a
    // pre-started interpreter), also one reparented away from the server (a leak would be).
    const launchers = descendants(server.pid).filter((p) => p.comm === 'runner-launch').map((p) => p.pid);
    const procs = new Set([...launchers, ...sandboxProcessesOf(server.pid, ownerOf)]);
    samples.push({
      after,
      sandbox_processes: procs.size,
      // Only this server's sandboxes (their names carry the engine's pid): on a shared host other
      // engines' sandboxes come and go under the same parent.
      cgroups: cgroups.list().filter((name) => ownerOf(name) === server.pid).length,
      host_mounts: hostMountCount(),
      server_fds: openFds(server.pid),
      server_rss_bytes: rssBytes(server.pid),
    });
    options.log(`after ${after}: ${JSON.stringify(samples[samples.length - 1])}`);
  };
  try {
    await waitForPool(server.url, poolSize);
    const every = Math.max(1, Math.floor(options.executions / 10));
    for (let i = 1; i <= options.executions; i++) {
      const res = await fetch(`${server.url}/api/v1/execute`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ language: 'python', code: `print(${i})` }),
      });
      const body = (await res.json()) as { stdout?: string };
      if (body.stdout !== `${i}\n`) failures++;
      if (i === 100 || i % every === 0) {
        await waitForPool(server.url, poolSize);
        sample(i);
      }
    }
  } finally {
    await server.stop();
  }
  const first = samples[0]!;
  const last = samples[samples.length - 1]!;
  // Per sandbox: bwrap, the agent and its pre-started python, and one cgroup; one more may be
  // mid-teardown when sampled.
  const bound = (poolSize + 1) * 3;
  const growth = rssGrowth(samples, options.executions);
  const leakFree =
    failures === 0 &&
    samples.every((s) => s.sandbox_processes <= bound && s.cgroups <= poolSize + 1 && s.host_mounts <= first.host_mounts) &&
    last.server_fds <= first.server_fds + 2 &&
    growth < RSS_GROWTH_LIMIT;
  await mkdir(options.resultsDir, { recursive: true });
  const file = join(options.resultsDir, `soak-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  const report: SoakReport = { executions: options.executions, failures, seconds: Math.round((Date.now() - started) / 1000), samples, leak_free: leakFree, rss_growth_after_warmup: Math.round(growth * 1000) / 1000, results_file: file };
  await writeFile(file, JSON.stringify(report, null, 2) + '\n');
  return report;
}

/** Most RSS growth over the later samples, as a share of their mean, that is not a leak. */
const RSS_GROWTH_LIMIT = 0.1;

/**
 * How much the server's RSS still grows once warmed up: a least-squares line through the samples
 * from 60% of the run on, its rise over that span as a share of their mean RSS. V8's heap settles in
 * steps during the first thousands of executions (74 → 99 MiB over a 10,000 soak, flat after), which
 * a comparison with an early sample took for a leak; a leak keeps growing to the end. A leak of
 * ~3 KiB per execution shows as 10% over the last 4,000 of 10,000.
 */
export function rssGrowth(samples: readonly SoakSample[], executions: number): number {
  const later = samples.filter((s) => s.after >= executions * 0.6);
  if (later.length < 2) return 0;
  const n = later.length;
  const mx = later.reduce((sum, s) => sum + s.after, 0) / n;
  const my = later.reduce((sum, s) => sum + s.server_rss_bytes, 0) / n;
  const sxx = later.reduce((sum, s) => sum + (s.after - mx) ** 2, 0);
  const sxy = later.reduce((sum, s) => sum + (s.after - mx) * (s.server_rss_bytes - my), 0);
  const span = later[n - 1]!.after - later[0]!.after;
  return sxx === 0 || my === 0 ? 0 : ((sxy / sxx) * span) / my;
}

export function formatSoak(report: SoakReport): string {
  const rows = report.samples.map(
    (s) => `${String(s.after).padStart(7)} ${String(s.sandbox_processes).padStart(6)} ${String(s.cgroups).padStart(8)} ${String(s.host_mounts).padStart(7)} ${String(s.server_fds).padStart(4)} ${(s.server_rss_bytes / 1048576).toFixed(1).padStart(8)}`,
  );
  return [
    `soak: ${report.executions} sequential executions in ${report.seconds} s, ${report.failures} failures`,
    '  after  procs  cgroups  mounts  fds  RSS MiB',
    ...rows,
    `RSS growth after warm-up (from ${Math.round(report.executions * 0.6)} on): ${(report.rss_growth_after_warmup * 100).toFixed(1)}% (limit ${RSS_GROWTH_LIMIT * 100}%)`,
    report.leak_free ? 'no growth: leak free' : 'GROWTH DETECTED',
    `results: ${report.results_file}`,
  ].join('\n');
}
