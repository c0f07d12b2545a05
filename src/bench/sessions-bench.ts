import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { dataPaths } from '../config/paths.js';
import { ImageStore } from '../images/store.js';
import { getLanguage } from '../languages/lookup.js';
import { BENCH_LANGUAGES, runBare } from './bench-languages.js';
import { cgroupMemory, descendants, memoryCgroupOf, pssBytes } from './host-probe.js';
import { interleaved, sequential } from './load.js';
import { startServerProcess } from './server-process.js';
import { ServerTimings, type ResultTimings } from './server-timings.js';
import { ratio, summarize, type Summary } from './stats.js';

/** Issue 14's performance targets for sessions. */
export const SESSION_TARGETS = { executeP50ToBare: 1.2, cellP50Ms: 5, idleSessionBytes: 15 * 1024 * 1024 } as const;

/** The interpreter language measured: the data-science one when its image is built, else plain python. */
const CELL_LANGUAGES = ['python-datascience', 'python'] as const;

export interface SessionMemory {
  /** Processes in the session's cgroup, by command name. */
  processes: string[];
  /** PSS of those processes (shared pages split between sharers). */
  pss_bytes: number;
  /** What the session's memory cgroup is charged (processes, tmpfs, page cache it faulted in). */
  cgroup_bytes: number;
}

export interface SessionsReport {
  /** The host's 1-minute load average when the part started and ended: a shared machine's noise. */
  load_average: { start: number; end: number };
  execute: {
    language: 'python';
    bare: Summary;
    session: Summary;
    /** Medians of the server's own timings: where a session execute's time goes. */
    breakdown: { client_ms: number; server_total_ms: number; put_files_ms: number; program_ms: number };
    ratio_p50: number;
    met: boolean;
    /** The fixed cost of one session exec: `command: ["true"]` beside a bare /bin/true, interleaved. */
    overhead: { bare_true: Summary; session_true: Summary };
  };
  /** A cell `x + 1` through POST …/run_code; `skipped` says why when the server has no such route. */
  cell: { language: string; summary: Summary; kernel_ms: number; first_cell_ms: number; met: boolean } | { language: string; skipped: string };
  idle: {
    language: string;
    /** Right after create: the sandbox and its agent in session mode. */
    created: SessionMemory;
    /** After the kernel started and ran `x = 1`: nothing of numpy, pandas, … imported. */
    kernel: SessionMemory | null;
    met: boolean;
  };
}

interface Json {
  [key: string]: unknown;
}

function memoryOf(cgroup: string): SessionMemory {
  const { pids, chargedBytes } = cgroupMemory(cgroup);
  const comms = new Map(descendants(1).map((p) => [p.pid, p.comm]));
  return { processes: pids.map((pid) => comms.get(pid) ?? '?').sort(), pss_bytes: pids.reduce((sum, pid) => sum + pssBytes(pid), 0), cgroup_bytes: chargedBytes };
}

/** The cgroups of the server's sandboxes (one per sandbox). */
function sandboxCgroups(serverPid: number): Set<string> {
  const out = new Set<string>();
  const own = memoryCgroupOf(serverPid);
  for (const { pid } of descendants(serverPid)) {
    const cgroup = memoryCgroupOf(pid);
    if (cgroup && cgroup !== own) out.add(cgroup);
  }
  return out;
}

/**
 * Sessions beside the bare interpreter (issue 14's three targets), against `infra.operator api` in
 * its own process: a session `execute` of python `print(1)` interleaved sample by sample with bare
 * python; a cell `x + 1` over HTTP; and the memory of an idle interpreter session.
 */
export async function runSessionsBench(options: { samples: number; log: (line: string) => void }): Promise<SessionsReport> {
  const { log, samples } = options;
  const loadAtStart = loadavg()[0]!;
  const images = new ImageStore(dataPaths().imagesDir);
  const cellLanguage = CELL_LANGUAGES.find((id) => images.manifest(getLanguage(id).image)) ?? 'python';
  // No warm pool: a session's executions do not depend on how its sandbox started, and with no
  // refills in the background the new session is the one new cgroup the memory probe finds.
  const server = await startServerProcess(['--pool-size', '0', '--queue-limit', '256']);
  const client = new Pool(server.url, { connections: 2 });
  const call = async (method: 'POST' | 'DELETE', path: string, body?: Json): Promise<{ status: number; body: Json }> => {
    const res = await client.request({ method, path, headers: { 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
    const text = await res.body.text();
    return { status: res.statusCode, body: text ? (JSON.parse(text) as Json) : {} };
  };
  const create = async (language: string): Promise<string> => {
    const res = await call('POST', '/api/v1/sessions', { language });
    if (res.status !== 201) throw new Error(`creating a ${language} session: HTTP ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
    return res.body.id as string;
  };
  try {
    // (1) session execute beside bare python, interleaved.
    const python = BENCH_LANGUAGES.python!;
    const sid = await create('python');
    const timings = new ServerTimings();
    const execute = async (record: boolean): Promise<void> => {
      const res = await call('POST', `/api/v1/sessions/${sid}/execute`, { code: python.code });
      if (res.status !== 200 || res.body.stdout !== python.stdout) throw new Error(`session execute: HTTP ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
      if (record) timings.record(res.body.timings as ResultTimings);
    };
    const bare = async (): Promise<void> => {
      for (const argv of python.bare(images, '/')) await runBare(argv);
    };
    await interleaved([bare, () => execute(false)], 5);
    log(`[sessions] python session execute and bare python, ${samples} each, interleaved`);
    const [bareSamples, sessionSamples] = await interleaved([bare, () => execute(true)], samples);
    const bareSummary = summarize(bareSamples!);
    const sessionSummary = summarize(sessionSamples!);
    const bareTrue = (): Promise<void> => runBare(['/bin/true']);
    const sessionTrue = async (): Promise<void> => {
      const res = await call('POST', `/api/v1/sessions/${sid}/execute`, { command: ['true'] });
      if (res.status !== 200 || res.body.exit_code !== 0) throw new Error(`session execute true: HTTP ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
    };
    log(`[sessions] session execute of true and bare /bin/true, ${samples} each, interleaved`);
    const [bareTrueSamples, sessionTrueSamples] = await interleaved([bareTrue, sessionTrue], samples);
    await call('DELETE', `/api/v1/sessions/${sid}`);

    // (3) the idle interpreter session, before and after its kernel starts; then (2) its cells.
    await sleep(200);
    const before = sandboxCgroups(server.pid);
    log(`[sessions] idle ${cellLanguage} session memory, then cells \`x + 1\` over HTTP`);
    const cid = await create(cellLanguage);
    await sleep(300);
    const fresh = [...sandboxCgroups(server.pid)].filter((c) => !before.has(c));
    if (fresh.length !== 1) throw new Error(`expected the new session's one cgroup, found ${fresh.length}: ${fresh.join(', ')}`);
    const created = memoryOf(fresh[0]!);
    let kernel: SessionMemory | null = null;
    let cell: SessionsReport['cell'];
    const runCode = (code: string) => call('POST', `/api/v1/sessions/${cid}/run_code`, { code });
    const firstStarted = performance.now();
    const first = await runCode('x = 1');
    const firstCellMs = Math.round((performance.now() - firstStarted) * 100) / 100;
    const noRoute = first.status === 404 && /^no route /.test((first.body.error as { message?: string } | undefined)?.message ?? '');
    if (noRoute) {
      cell = { language: cellLanguage, skipped: `POST /api/v1/sessions/{id}/run_code is not served by this build (HTTP 404 ${JSON.stringify(first.body).slice(0, 120)})` };
    } else {
      if (first.status !== 200 || first.body.error) throw new Error(`run_code: HTTP ${first.status} ${JSON.stringify(first.body).slice(0, 300)}`);
      await sleep(300);
      kernel = memoryOf(fresh[0]!);
      const kernelMs: number[] = [];
      const cellOp = async (record: boolean): Promise<void> => {
        const res = await runCode('x + 1');
        const outputs = res.body.outputs as { 'text/plain'?: string }[] | undefined;
        if (res.status !== 200 || outputs?.at(-1)?.['text/plain'] !== '2') throw new Error(`cell x + 1: HTTP ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
        if (record) kernelMs.push(res.body.duration_ms as number);
      };
      await sequential(() => cellOp(false), 20);
      const summary = summarize(await sequential(() => cellOp(true), samples));
      cell = { language: cellLanguage, summary, kernel_ms: summarize(kernelMs).p50, first_cell_ms: firstCellMs, met: summary.p50 < SESSION_TARGETS.cellP50Ms };
    }
    await call('DELETE', `/api/v1/sessions/${cid}`);

    const measured = kernel ?? created;
    return {
      load_average: { start: loadAtStart, end: loadavg()[0]! },
      execute: {
        language: 'python',
        bare: bareSummary,
        session: sessionSummary,
        breakdown: (({ load_ms, ...split }) => ({ ...split, put_files_ms: load_ms }))(timings.split(sessionSummary.p50)),
        ratio_p50: ratio(sessionSummary.p50, bareSummary.p50),
        met: sessionSummary.p50 <= bareSummary.p50 * SESSION_TARGETS.executeP50ToBare,
        overhead: { bare_true: summarize(bareTrueSamples!), session_true: summarize(sessionTrueSamples!) },
      },
      cell,
      idle: { language: cellLanguage, created, kernel, met: Math.max(measured.pss_bytes, measured.cgroup_bytes) < SESSION_TARGETS.idleSessionBytes },
    };
  } finally {
    await client.close();
    await server.stop();
  }
}

/** The sessions part of the report, for people: each figure and whether its target is met. */
export function formatSessions(report: SessionsReport): string {
  const ms = (s: Summary): string => `p50 ${s.p50.toFixed(2)} ms, p95 ${s.p95.toFixed(2)} ms`;
  const mib = (b: number): string => `${(b / 1048576).toFixed(2)} MiB`;
  const verdict = (met: boolean): string => (met ? 'target met' : 'TARGET MISSED');
  const { execute: e, cell: c, idle: i } = report;
  const b = e.breakdown;
  const memory = (m: SessionMemory): string => `${mib(m.pss_bytes)} PSS of ${m.processes.length} processes (${m.processes.join(', ')}), ${mib(m.cgroup_bytes)} charged to its cgroup`;
  return [
    `sessions (issue 14), host load average ${report.load_average.start.toFixed(1)} at the start, ${report.load_average.end.toFixed(1)} at the end:`,
    `  bare python print(1)            ${ms(e.bare)}`,
    `  session execute python print(1) ${ms(e.session)}  p50 ×${e.ratio_p50} of bare (target ≤ ×${SESSION_TARGETS.executeP50ToBare}: ${verdict(e.met)})`,
    `    p50 split: client ${b.client_ms} ms = server ${b.server_total_ms} ms (put the program ${b.put_files_ms} ms, program in sandbox ${b.program_ms} ms) + route/HTTP/JSON ${Math.round((b.client_ms - b.server_total_ms) * 100) / 100} ms`,
    `    fixed cost of a session exec: command true ${ms(e.overhead.session_true)} beside bare /bin/true ${ms(e.overhead.bare_true)}`,
    'summary' in c
      ? `  cell x + 1 over HTTP (${c.language})  ${ms(c.summary)}, kernel ${c.kernel_ms} ms of it (target p50 < ${SESSION_TARGETS.cellP50Ms} ms: ${verdict(c.met)}); the first cell, starting the kernel, ${c.first_cell_ms} ms`
      : `  cell x + 1 over HTTP (${c.language})  skipped: ${c.skipped}`,
    `  idle ${i.language} session, created: ${memory(i.created)}`,
    i.kernel ? `  idle ${i.language} session, kernel started, nothing imported: ${memory(i.kernel)}` : `  idle ${i.language} session with its kernel: not measured (no run_code route)`,
    `    target < ${mib(SESSION_TARGETS.idleSessionBytes)} (${i.kernel ? 'with the kernel' : 'without the kernel'}, the larger of PSS and cgroup charge): ${verdict(i.met)}`,
  ].join('\n');
}
