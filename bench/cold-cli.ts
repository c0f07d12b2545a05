/**
 * Cold CLI start of two checkouts, side by side: `node dist/bench/cold-cli.js OLD NEW [samples]`, where
 * OLD and NEW are built checkouts (`npm run build`), each optionally followed by `:HOME`, its data dir
 * (RUNNER_CODES_HOME; default the environment's). Example, a round-start build against this tree:
 *
 *   node dist/bench/cold-cli.js /tmp/oldmain:/var/cache/rc-old .:/var/cache/runner-codes 20
 *
 * Each sample runs every scenario once in OLD and once in NEW, the order flipping every sample, so that
 * the noise of a shared machine falls on both alike. It prints each tree's median and p90 and the NEW/OLD
 * ratios (below 1: NEW starts faster); the median of the pairs' ratios (sample i of NEW over sample i
 * of OLD, run back to back: drift between pairs cancels out); and the mean CPU time of each run (the
 * CLI and everything it waited for, the sandbox included): wall time swings with the machine's load,
 * CPU time much less. Needs root, as every `run`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { percentile } from '../src/bench/stats.js';

interface Tree {
  label: string;
  cli: string;
  home: string | undefined;
}

interface Scenario {
  name: string;
  args: string[];
}

const SCENARIOS: readonly Scenario[] = [
  { name: 'run --help', args: ['run', '--help'] },
  { name: 'run --lang python', args: ['run', '--lang', 'python', '--code', 'print(1)'] },
  { name: 'run --lang javascript', args: ['run', '--lang', 'javascript', '--code', 'console.log(1)'] },
];

function treeOf(label: string, spec: string): Tree {
  const at = spec.indexOf(':');
  const dir = resolve(at < 0 ? spec : spec.slice(0, at));
  const cli = join(dir, 'dist', 'src', 'cli', 'index.js');
  if (!existsSync(cli)) fail(`${label}: ${cli} does not exist (build that checkout with \`npm run build\`)`);
  return { label, cli, home: at < 0 ? process.env.RUNNER_CODES_HOME : spec.slice(at + 1) };
}

function fail(message: string): never {
  process.stderr.write(`cold-cli: ${message}\n`);
  process.exit(2);
}

/**
 * CPU time of the children this process has waited for, and of theirs, in ms (/proc/self/stat's
 * cutime + cstime, in USER_HZ ticks: 100 a second on Linux whatever the kernel's HZ).
 */
function childrenCpuMs(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // from field 3 (state) on
  return (Number(fields[13]) + Number(fields[14])) * 10;
}

interface Sample {
  wallMs: number;
  cpuMs: number;
}

/** One fresh CLI process; fails loudly when the command itself fails. */
function timeOnce(tree: Tree, scenario: Scenario): Sample {
  const env = { ...process.env, ...(tree.home ? { RUNNER_CODES_HOME: tree.home } : {}) };
  const cpuBefore = childrenCpuMs();
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, [tree.cli, ...scenario.args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) fail(`${tree.label} \`${scenario.name}\` exited ${result.status}: ${result.stderr.toString().trim()}`);
  return { wallMs, cpuMs: childrenCpuMs() - cpuBefore };
}

const [oldSpec, newSpec, samplesArg] = process.argv.slice(2);
if (!oldSpec || !newSpec) fail('usage: node dist/bench/cold-cli.js OLD[:HOME] NEW[:HOME] [samples]');
const samples = Number(samplesArg ?? 20);
if (!Number.isInteger(samples) || samples < 1) fail(`samples must be a positive integer, got ${samplesArg}`);
const trees = [treeOf('old', oldSpec), treeOf('new', newSpec)] as const;

const times = new Map<string, Sample[]>();
const key = (tree: Tree, scenario: Scenario): string => `${tree.label} ${scenario.name}`;
// One untimed round first: both trees then start from a warm page cache.
for (const tree of trees) for (const scenario of SCENARIOS) timeOnce(tree, scenario);
for (let i = 0; i < samples; i++) {
  const order = i % 2 === 0 ? trees : ([trees[1], trees[0]] as const);
  for (const scenario of SCENARIOS) {
    for (const tree of order) {
      const list = times.get(key(tree, scenario)) ?? [];
      list.push(timeOnce(tree, scenario));
      times.set(key(tree, scenario), list);
    }
  }
}

const COLUMNS = ['old p50', 'new p50', 'old p90', 'new p90', 'new/old p50', 'new/old p90', 'paired', 'old CPU', 'new CPU', 'new/old CPU'];
const cell = (x: string, i: number): string => x.padStart(COLUMNS[i]!.length);
process.stdout.write(`cold CLI, ${samples} interleaved samples (wall ms; CPU: mean ms per run); old ${trees[0].cli}, new ${trees[1].cli}\n`);
process.stdout.write(`${'scenario'.padEnd(22)} ${COLUMNS.join('  ')}\n`);
for (const scenario of SCENARIOS) {
  const old = times.get(key(trees[0], scenario))!;
  const now = times.get(key(trees[1], scenario))!;
  const wall = (list: Sample[]): number[] => list.map((s) => s.wallMs).sort((a, b) => a - b);
  const cpu = (list: Sample[]): number => list.reduce((sum, s) => sum + s.cpuMs, 0) / list.length;
  const [o50, n50, o90, n90] = [percentile(wall(old), 50), percentile(wall(now), 50), percentile(wall(old), 90), percentile(wall(now), 90)];
  const paired = percentile(now.map((s, i) => s.wallMs / old[i]!.wallMs).sort((a, b) => a - b), 50);
  const [oCpu, nCpu] = [cpu(old), cpu(now)];
  const cells = [o50, n50, o90, n90].map((x) => x.toFixed(1)).concat([n50 / o50, n90 / o90, paired].map((x) => x.toFixed(3)), [oCpu.toFixed(1), nCpu.toFixed(1), (nCpu / oCpu).toFixed(3)]);
  process.stdout.write(`${scenario.name.padEnd(22)} ${cells.map(cell).join('  ')}\n`);
}
