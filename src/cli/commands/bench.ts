import { join } from 'node:path';
import { Command } from 'commander';
import type { BenchReport } from '../../bench/benchmark.js';
import { packageRoot } from '../../config/paths.js';
import { exitWith, printJson, type CliContext } from '../context.js';
import { integerOption, listOption } from '../parse.js';

export function benchCommand(ctx: CliContext): Command {
  return new Command('bench')
    .description('measure bare interpreter vs cold CLI vs warm HTTP (sequential and concurrent), and sessions, side by side; or a soak run')
    .option('--languages <ids>', 'languages to measure (default: python,javascript,c)', listOption)
    .option('--samples <n>', 'sequential samples per measurement (default 100)', integerOption('--samples', 1))
    .option('--duration <s>', 'seconds of each concurrent run (default 20)', integerOption('--duration', 1))
    .option('--clients <list>', 'concurrent client counts (default 4,16)', listOption)
    .option('--quick', 'short run: 20 samples, 3 s concurrent runs')
    .option('--no-sessions', 'skip the sessions part (session execute vs bare, interpreter cells over HTTP, idle session memory)')
    .option('--sessions-only', 'only the sessions part')
    .option('--cost', 'instead: CPU per execution, bare vs sandbox, machine-wide and in the engine process')
    .option('--soak <n>', 'instead: n sequential executions, checking for leaked processes, cgroups, mounts, fds and RSS', integerOption('--soak', 1))
    .option('--json', 'print the JSON report')
    .action(
      exitWith(ctx, async (flags: { languages?: string[]; sessions: boolean; sessionsOnly?: boolean; samples?: number; duration?: number; clients?: string[]; quick?: boolean; soak?: number; cost?: boolean; json?: boolean }) => {
        const resultsDir = join(packageRoot, 'bench', 'results');
        const log = (line: string): void => void process.stderr.write(`${line}\n`);
        if (flags.cost) {
          const { measureCost, formatCost } = await import('../../bench/cost.js');
          const rows = await measureCost(flags.samples ?? 100);
          if (flags.json) printJson(rows);
          else process.stdout.write(formatCost(rows) + '\n');
          return 0;
        }
        if (flags.soak !== undefined) {
          const { runSoak, formatSoak } = await import('../../bench/soak.js');
          const soak = await runSoak({ executions: flags.soak, resultsDir, log });
          if (flags.json) printJson(soak);
          else process.stdout.write(formatSoak(soak) + '\n');
          return soak.leak_free ? 0 : 1;
        }
        const { runBenchmark, formatReport } = await import('../../bench/benchmark.js');
        const report: BenchReport = await runBenchmark({
          languages: flags.sessionsOnly ? [] : (flags.languages ?? ['python', 'javascript', 'c']),
          sessions: flags.sessions || flags.sessionsOnly === true,
          samples: flags.samples ?? (flags.quick ? 20 : 100),
          durationMs: (flags.duration ?? (flags.quick ? 3 : 20)) * 1000,
          concurrency: (flags.clients ?? ['4', '16']).map(Number),
          resultsDir,
          log,
        });
        if (flags.json) printJson(report);
        else process.stdout.write(formatReport(report) + '\n');
        return 0;
      }),
    );
}
