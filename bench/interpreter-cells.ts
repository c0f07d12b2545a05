/**
 * Interpreter cells (docs/kernels.md), side by side with the bare kernel: `npm run bench:cells
 * [-- SAMPLES]`. For each language with a kernel whose image is built, it prints
 *   - the p50/p95 of a cell `x + 1` through Kernel.run in a real bwrap session (agent protocol v2:
 *     control frames both ways), and of the same kernel program as a plain host process over a
 *     socketpair (the image's own interpreter, chroot only changing the root);
 *   - the memory of the idle session: the PSS of every process in the sandbox's cgroup (agent and
 *     kernel; the data-science libraries not imported), after the kernel started and ran `x = 1`.
 * Issue 14's targets: a cell under 5 ms p50, an idle python session under 15 MiB. Needs root.
 */
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import type { Socket } from 'node:net';
import { pssBytes } from '../src/bench/host-probe.js';
import { summarize, type Summary } from '../src/bench/stats.js';
import { dataPaths } from '../src/config/paths.js';
import { which } from '../src/config/which.js';
import { Kernel } from '../src/engine/kernel.js';
import { kernelArgv, kernelLanguages } from '../src/engine/kernel-program.js';
import { stageEnv } from '../src/engine/job.js';
import { languageLimits } from '../src/engine/limits.js';
import { ImageStore } from '../src/images/store.js';
import { getLanguage } from '../src/languages/lookup.js';
import { openBackend } from '../src/sandbox/registry.js';

const samples = Number(process.argv[2] ?? 300);
const paths = dataPaths();
const images = new ImageStore(paths.imagesDir);
const MiB = 1024 * 1024;

/** Every process whose cgroup is the sandbox's, from the host's /proc. */
function sandboxPids(sandboxId: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (new RegExp(`/${sandboxId}(/|$)`, "m").test(readFileSync(`/proc/${name}/cgroup`, "utf8"))) pids.push(Number(name));
    } catch {
      // gone
    }
  }
  return pids;
}

async function timeCells(run: (code: string) => Promise<unknown>): Promise<Summary> {
  await run('x = 1');
  for (let i = 0; i < 20; i++) await run('x + 1');
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const started = performance.now();
    await run('x + 1');
    times.push(performance.now() - started);
  }
  return summarize(times);
}

/** The kernel program as a plain process in the image's root (chroot), its fd 3 a socketpair. */
async function bare(language: string, rootfs: string): Promise<Summary> {
  const child = spawn(which('chroot') ?? '/usr/sbin/chroot', [rootfs, ...kernelArgv(language)], {
    stdio: ['ignore', 'ignore', 'inherit', 'pipe'],
    cwd: '/',
    env: { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: '/tmp', LANG: 'C.UTF-8' },
  });
  const control = child.stdio[3] as Socket;
  let pending = '';
  let waiter: (() => void) | null = null;
  control.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    let newline: number;
    while ((newline = pending.indexOf('\n')) >= 0) {
      const message = JSON.parse(pending.slice(0, newline)) as { stream?: string };
      pending = pending.slice(newline + 1);
      if (message.stream === undefined) waiter?.();
    }
  });
  const next = (): Promise<void> => new Promise((resolve) => (waiter = resolve));
  await next();
  let cell = 0;
  try {
    return await timeCells(async (code) => {
      const answered = next();
      control.write(JSON.stringify({ cell: ++cell, code }) + '\n');
      await answered;
    });
  } finally {
    child.kill('SIGKILL');
  }
}

async function sandboxed(language: string): Promise<{ cell: Summary; idleMiB: number; processes: number }> {
  const spec = getLanguage(language);
  const limits = languageLimits(spec);
  const backend = await openBackend({ paths, backend: 'bwrap' });
  const sandbox = await backend.start({ image: spec.image, rootfs: images.rootfs(spec.image), limits, traceId: `bench-cells-${language}` });
  try {
    const session = await sandbox.openSession();
    const kernel = await Kernel.start(session, language, { env: stageEnv(spec, { env: [] }), limits, timeoutMs: 60_000 });
    await kernel.run('x = 1', 10_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const pids = sandboxPids(sandbox.id);
    const idleMiB = pids.reduce((sum, pid) => sum + pssBytes(pid), 0) / MiB;
    const cell = await timeCells(async (code) => {
      const result = await kernel.run(code, 10_000);
      if (result.error) throw new Error(`${result.error.name}: ${result.error.message}`);
    });
    await kernel.close();
    return { cell, idleMiB, processes: pids.length };
  } finally {
    await sandbox.destroy();
  }
}

const ms = (s: Summary): string => `p50 ${s.p50.toFixed(2)} ms, p95 ${s.p95.toFixed(2)} ms`;
for (const language of kernelLanguages()) {
  const image = getLanguage(language).image;
  if (!images.manifest(image)) {
    console.log(`${language}: image '${image}' not built, skipped`);
    continue;
  }
  const plain = await bare(language, images.rootfs(image));
  const inSandbox = await sandboxed(language);
  console.log(
    `${language}: cell \`x + 1\` ${ms(inSandbox.cell)} in a bwrap session (bare kernel ${ms(plain)}, ×${(inSandbox.cell.p50 / plain.p50).toFixed(2)} at p50); ` +
      `idle session PSS ${inSandbox.idleMiB.toFixed(1)} MiB over ${inSandbox.processes} processes`,
  );
}
