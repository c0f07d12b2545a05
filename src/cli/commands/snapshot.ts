import { Command } from 'commander';
import { dataPaths } from '../../config/paths.js';
import { languageLimits } from '../../engine/limits.js';
import { getLanguage } from '../../languages/lookup.js';
import { JAILER_MODES, type JailerMode } from '../../sandbox/backend-host.js';
import { exitWith, printJson, type CliContext } from '../context.js';
import { choiceOption, integerOption } from '../parse.js';

/** Loaded when a snapshot command runs, not at the CLI's start: the Firecracker client pulls in undici. */
const snapshots = () => import('../../sandbox/firecracker/snapshots.js');

/** `snapshot create|list|rm`: Firecracker snapshots that executions restore instead of booting. */
export function snapshotCommand(ctx: CliContext): Command {
  const snapshot = new Command('snapshot').description('Firecracker snapshots of booted guests, restored per execution instead of a boot (docs/vm.md)');

  snapshot
    .command('create')
    .description('boot the language\'s image under Firecracker, wait until its guest listens, and snapshot it')
    .requiredOption('--lang <id>', 'language whose image to snapshot')
    .option('-m, --memory <MB>', 'memory limit the snapshot is made for (its guest RAM is fixed by it; default 256)', integerOption('--memory', 16))
    .option('--firecracker-jailer <mode>', `make it for Firecracker run jailed or not: ${JAILER_MODES.join(', ')} (default auto; executions restore only a snapshot made the way they run)`, choiceOption('--firecracker-jailer', JAILER_MODES))
    .option('--json', 'print the snapshot manifest as JSON')
    .action(
      exitWith(ctx, async (flags: { lang: string; memory?: number; firecrackerJailer?: JailerMode; json?: boolean }) => {
        const host = (await snapshots()).snapshotHost(dataPaths());
        const language = getLanguage(flags.lang);
        const limits = { ...languageLimits(language), ...(flags.memory ? { memoryBytes: flags.memory * 1024 * 1024 } : {}) };
        const { manifest, dir } = await host.create(language, limits, flags.firecrackerJailer);
        if (flags.json) printJson(manifest);
        else process.stderr.write(`snapshot of ${manifest.image} made (${manifest.memory_mib} MiB guest, ${manifest.jailed ? 'jailed' : 'not jailed'}): ${dir}\n`);
        return 0;
      }),
    );

  snapshot
    .command('list')
    .description('list snapshots and whether they are current (made from the image, kernel and initramfs as they are, and jailed if Firecracker runs jailed here)')
    .option('--json', 'print JSON')
    .action(
      exitWith(ctx, async (flags: { json?: boolean }) => {
        const rows = (await snapshots()).listSnapshots(dataPaths());
        if (flags.json) printJson(rows);
        else for (const r of rows) process.stdout.write(`${r.image.padEnd(14)} ${(r.current ? 'current' : 'stale').padEnd(8)} ${(r.jailed ? 'jailed' : 'direct').padEnd(7)} ${String(r.memory_mib).padStart(5)} MiB  ${r.created_at}\n`);
        return 0;
      }),
    );

  snapshot
    .command('rm')
    .description('remove a language image\'s snapshot')
    .requiredOption('--lang <id>', 'language whose image\'s snapshot to remove')
    .action(
      exitWith(ctx, async (flags: { lang: string }) => {
        await (await snapshots()).removeSnapshot(dataPaths(), getLanguage(flags.lang).image);
        return 0;
      }),
    );
  return snapshot;
}
