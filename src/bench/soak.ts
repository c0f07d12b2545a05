import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openCgroupDriver } from '../sandbox/cgroup/detect.js';
import { descendants, hostMountCount, memoryCgroupOf, openFds, rssBytes } from './host-probe.js';
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
  /** Everything countable stayed within the pool's own bounds and RSS grew by less than 25%. */
  leak_free: boolean;
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
    // The launchers, and every process in a sandbox's cgroup (bwrap, the agent, a pre-started interpreter).
    const procs = descendants(server.pid).filter((p) => p.comm === 'runner-launch' || /\/rc-[^/]+$/.test(memoryCgroupOf(p.pid) ?? ''));
    samples.push({
      after,
      sandbox_processes: procs.length,
      cgroups: cgroups.list().length,
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
  const leakFree =
    failures === 0 &&
    samples.every((s) => s.sandbox_processes <= bound && s.cgroups <= poolSize + 1 && s.host_mounts <= first.host_mounts) &&
    last.server_fds <= first.server_fds + 2 &&
    last.server_rss_bytes < first.server_rss_bytes * 1.25;
  await mkdir(options.resultsDir, { recursive: true });
  const file = join(options.resultsDir, `soak-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  const report: SoakReport = { executions: options.executions, failures, seconds: Math.round((Date.now() - started) / 1000), samples, leak_free: leakFree, results_file: file };
  await writeFile(file, JSON.stringify(report, null, 2) + '\n');
  return report;
}

export function formatSoak(report: SoakReport): string {
  const rows = report.samples.map(
    (s) => `${String(s.after).padStart(7)} ${String(s.sandbox_processes).padStart(6)} ${String(s.cgroups).padStart(8)} ${String(s.host_mounts).padStart(7)} ${String(s.server_fds).padStart(4)} ${(s.server_rss_bytes / 1048576).toFixed(1).padStart(8)}`,
  );
  return [
    `soak: ${report.executions} sequential executions in ${report.seconds} s, ${report.failures} failures`,
    '  after  procs  cgroups  mounts  fds  RSS MiB',
    ...rows,
    report.leak_free ? 'no growth: leak free' : 'GROWTH DETECTED',
    `results: ${report.results_file}`,
  ].join('\n');
}
