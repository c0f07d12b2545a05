/**
 * CPU of one cold bwrap sandbox started through the fork server, checkouts side by side:
 * `node dist/bench/sandbox-start-cpu.js CHECKOUT[:HOME]... [--count N] [--rounds R]`, CHECKOUT a
 * built checkout (`npm run build`), HOME its data dir (RUNNER_CODES_HOME; default the
 * environment's). Example, main against this tree:
 *
 *   node dist/bench/sandbox-start-cpu.js /tmp/base:/var/cache/rc-base .:/var/cache/rc-mine --rounds 4
 *
 * Each round runs, for each checkout in turn (the order flipping every round), an engine of that
 * checkout with a fork server and no pool, and N executions of `bash true` one after another, each
 * in a sandbox of its own. It prints, per execution, the CPU of what the fork server reaped (its
 * `cutime + cstime`: runner-launch, bwrap, the agent, bash and the kernel's work in their context),
 * the fork server's own, and the wall time. Needs root.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const TICK_MS = 10; // USER_HZ 100

interface Figures {
  sandboxMs: number;
  forkServerMs: number;
  wallMs: number;
}

/** The fork server's own and reaped CPU, ms. */
function forkServerCpu(pid: number): { own: number; reaped: number } {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ').map(Number);
  return { own: (f[11]! + f[12]!) * TICK_MS, reaped: (f[13]! + f[14]!) * TICK_MS };
}

/** In a child process: N cold sandboxes of one checkout; prints its Figures as JSON. */
async function measureOne(checkout: string, count: number): Promise<void> {
  const { openEngine } = (await import(pathToFileURL(join(checkout, 'dist/src/compose/open-engine.js')).href)) as typeof import('../src/compose/open-engine.js');
  const engine = await openEngine({ backend: 'bwrap', forkServer: true, poolSizes: {} });
  try {
    const run = async (): Promise<void> => {
      const result = await engine.execute({ language: 'bash', code: 'true' });
      if (result.status !== 'success') throw new Error(`bash true: ${JSON.stringify(result)}`);
    };
    for (let i = 0; i < 5; i++) await run();
    const children = readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, 'utf8').trim().split(/\s+/).map(Number);
    const server = children.find((pid) => readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'runner-forkserv');
    if (server === undefined) throw new Error('no fork server');
    const before = forkServerCpu(server);
    const t0 = performance.now();
    for (let i = 0; i < count; i++) await run();
    const wallMs = (performance.now() - t0) / count;
    // The last sandboxes' teardown (reaped after their replies).
    await new Promise((done) => setTimeout(done, 500));
    const after = forkServerCpu(server);
    const figures: Figures = { sandboxMs: (after.reaped - before.reaped) / count, forkServerMs: (after.own - before.own) / count, wallMs };
    process.stdout.write(`${JSON.stringify(figures)}\n`);
  } finally {
    await engine.close();
  }
}

function main(): void {
  const args = process.argv.slice(2);
  if (args[0] === '--child') {
    void measureOne(args[1]!, Number(args[2])).catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
    return;
  }
  const option = (name: string, fallback: number): number => {
    const i = args.indexOf(name);
    if (i < 0) return fallback;
    const value = Number(args.splice(i, 2)[1]);
    if (!Number.isInteger(value) || value < 1) throw new Error(`${name} needs a positive integer`);
    return value;
  };
  const count = option('--count', 150);
  const rounds = option('--rounds', 4);
  if (args.length === 0) throw new Error('usage: sandbox-start-cpu.js CHECKOUT[:HOME]... [--count N] [--rounds R]');
  const targets = args.map((arg) => {
    const [checkout, home] = arg.split(':');
    return { label: arg, checkout: resolve(checkout!), home };
  });
  const results = new Map(targets.map((t) => [t.label, [] as Figures[]]));
  const load = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  console.log(`ms per cold \`bash true\` through the fork server, ${count} each, ${rounds} rounds alternating; load ${load()}`);
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? targets : [...targets].reverse();
    for (const target of order) {
      const child = spawnSync(process.execPath, [process.argv[1]!, '--child', target.checkout, String(count)], {
        env: { ...process.env, ...(target.home ? { RUNNER_CODES_HOME: target.home } : {}) },
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      if (child.status !== 0) throw new Error(`${target.label}: exit ${child.status}`);
      const figures = JSON.parse(child.stdout.trim().split('\n').pop()!) as Figures;
      results.get(target.label)!.push(figures);
      console.log(`  round ${round + 1} ${target.label}: sandbox ${figures.sandboxMs.toFixed(2)}, fork server ${figures.forkServerMs.toFixed(2)}, wall ${figures.wallMs.toFixed(1)}`);
    }
  }
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  for (const [label, figures] of results) {
    console.log(`${label}: sandbox ${mean(figures.map((f) => f.sandboxMs)).toFixed(2)} ms, fork server ${mean(figures.map((f) => f.forkServerMs)).toFixed(2)} ms, wall ${mean(figures.map((f) => f.wallMs)).toFixed(1)} ms (mean of ${figures.length}); load ${load()}`);
  }
}

main();
