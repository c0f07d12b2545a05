/**
 * Pre-started interpreters on and off, side by side (docs/prestart.md): `npm run bench:prestart
 * [-- LANGUAGES [SAMPLES]]`, e.g. `npm run bench:prestart -- ruby,php,lua,perl 40`. Two engines in
 * this one process on the bwrap backend, each with a warm pool of one sandbox per language: one
 * pre-starts interpreters, the other does not (`RUNNER_CODES_POOL_PRESTART=off`). Each sample runs
 * a hello world once through each engine, the order flipping every sample, each from a pooled
 * sandbox (the bench waits until both pools hold one, so a refill never overlaps a timed run). It
 * prints per language the p50 of each engine, their ratio, the median of the paired differences
 * (on minus off, sample by sample: drift of a shared machine cancels out) and the share of runs
 * that really ran pre-started. Also the start-up of each interpreter on the host (its image's root
 * by chroot, `-e ''` or the like): wall and CPU, median, what pre-starting can save at most. Needs
 * root, as every run.
 */
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { percentile } from '../src/bench/stats.js';
import { dataPaths } from '../src/config/paths.js';
import { openEngine } from '../src/compose/open-engine.js';
import type { Engine } from '../src/engine/engine.js';
import { ImageStore } from '../src/images/store.js';
import { getLanguage } from '../src/languages/lookup.js';

/** Per language: a hello world through the engine, and the interpreter started with an empty program. */
const PROGRAMS: Record<string, { code: string; empty: string[] }> = {
  python: { code: 'print(1)\n', empty: ['python3', '-c', ''] },
  javascript: { code: 'console.log(1)\n', empty: ['node', '-e', ''] },
  ruby: { code: 'puts 1\n', empty: ['ruby', '-e', ''] },
  php: { code: '<?php echo 1, "\\n";\n', empty: ['php', '-r', ''] },
  lua: { code: 'print(1)\n', empty: ['lua5.4', '-e', ''] },
  perl: { code: 'print "1\\n";\n', empty: ['perl', '-e', ''] },
};

const languages = (process.argv[2] ?? 'ruby,php').split(',');
const samples = Number(process.argv[3] ?? 40);
for (const language of languages) if (!PROGRAMS[language]) fail(`no program for ${language} (one of ${Object.keys(PROGRAMS).join(', ')})`);

function fail(message: string): never {
  process.stderr.write(`bench prestart: ${message}\n`);
  process.exit(2);
}

const median = (xs: readonly number[]): number => percentile([...xs].sort((a, b) => a - b), 50);
const ms = (x: number): string => x.toFixed(1).padStart(6);

/** The interpreter's start-up on the host, `chroot ROOTFS <empty>`: median wall and CPU (its rusage) of `runs`. */
function startup(language: string, runs: number): { wall: number; cpu: number } {
  const rootfs = new ImageStore(dataPaths().imagesDir).rootfs(getLanguage(language).image);
  const walls: number[] = [];
  const cpus: number[] = [];
  // Debian's python3 on the host times each run (wall by perf_counter, CPU from the child's rusage):
  // it can chroot in the forked child itself, so no chroot(1) is timed with the interpreter.
  const timer =
    'import os,sys,time,resource\n' +
    'root=sys.argv[1]; argv=sys.argv[2:]\n' +
    // The path is found before the chroot: python imports lazily, and the image has no python.
    'exe=next(d+"/"+argv[0] for d in ("/usr/local/bin","/usr/bin","/bin") if os.path.lexists(root+d+"/"+argv[0]))\n' +
    'for _ in range(int(os.environ["RUNS"])):\n' +
    ' r0=resource.getrusage(resource.RUSAGE_CHILDREN); t=time.perf_counter(); pid=os.fork()\n' +
    ' if pid==0:\n' +
    '  os.chroot(root); os.chdir("/"); n=os.open("/dev/null",os.O_RDWR); os.dup2(n,0); os.dup2(n,1)\n' +
    '  os.execve(exe,argv,{"PATH":"/usr/local/bin:/usr/bin:/bin","HOME":"/tmp","LANG":"C.UTF-8"})\n' +
    ' st=os.waitpid(pid,0)[1]; w=time.perf_counter()-t; r1=resource.getrusage(resource.RUSAGE_CHILDREN)\n' +
    ' if st: sys.exit("exit status %d" % st)\n' +
    ' print(w*1000, (r1.ru_utime-r0.ru_utime+r1.ru_stime-r0.ru_stime)*1000)\n';
  const out = spawnSync('/usr/bin/python3', ['-c', timer, rootfs, ...PROGRAMS[language]!.empty], { encoding: 'utf8', env: { RUNS: String(runs) } });
  if (out.status !== 0) fail(`${language}: start-up timing failed: ${out.stderr}`);
  for (const line of out.stdout.trim().split('\n')) {
    const [w, c] = line.split(' ').map(Number);
    walls.push(w!);
    cpus.push(c!);
  }
  return { wall: median(walls), cpu: median(cpus) };
}

async function untilPooled(engine: Engine, image: string): Promise<void> {
  for (let i = 0; i < 3000; i++) {
    if ((engine.pool!.stats().images.find((p) => p.image === image)?.idle ?? 0) >= 1) return;
    await sleep(10);
  }
  fail(`no pooled ${image} sandbox within 30 s`);
}

async function timed(engine: Engine, language: string): Promise<number> {
  const started = performance.now();
  const result = await engine.execute({ language, code: PROGRAMS[language]!.code });
  const elapsed = performance.now() - started;
  if (result.status !== 'success' || result.exit_code !== 0 || result.stdout !== '1\n') fail(`${language}: ${JSON.stringify(result).slice(0, 400)}`);
  return elapsed;
}

const images = languages.map((l) => getLanguage(l).image);
const pool = { defaultSize: 1, warm: images, maxIdle: 2 * images.length + 2, idleTtlMs: 600_000, shrinkAfterMs: 600_000 };
const on = await openEngine({ backend: 'bwrap', pool: { ...pool, prestart: true } });
const off = await openEngine({ backend: 'bwrap', pool: { ...pool, prestart: false } });
const load = loadavg()[0]!.toFixed(2);
try {
  process.stdout.write(`pre-start on vs off, ${samples} samples per language, interleaved; load average ${load}\n`);
  process.stdout.write('language   start-up wall  cpu  |  warm p50 on    off   on/off  paired on-off  pre-started\n');
  for (const language of languages) {
    const image = getLanguage(language).image;
    const up = startup(language, 30);
    const times = { on: [] as number[], off: [] as number[] };
    const prestartedBefore = on.prestartedRuns;
    for (let i = -3; i < samples; i++) {
      const order: Array<['on' | 'off', Engine]> = i % 2 === 0 ? [['on', on], ['off', off]] : [['off', off], ['on', on]];
      for (const [name, engine] of order) {
        await untilPooled(engine, image);
        await sleep(20); // let the refill's last work settle
        const t = await timed(engine, language);
        if (i >= 0) times[name].push(t); // the first three pairs warm the process's code paths
      }
    }
    const diffs = times.on.map((t, i) => t - times.off[i]!);
    const p50on = median(times.on);
    const p50off = median(times.off);
    const share = (on.prestartedRuns - prestartedBefore) / (samples + 3);
    process.stdout.write(
      `${language.padEnd(10)} ${ms(up.wall)} ${ms(up.cpu)}  |  ${ms(p50on)} ${ms(p50off)}   ${(p50on / p50off).toFixed(2)}   ${ms(median(diffs))}        ${(share * 100).toFixed(0)}%\n`,
    );
  }
  process.stdout.write(`load average at the end ${loadavg()[0]!.toFixed(2)}\n`);
} finally {
  await on.close();
  await off.close();
}
