import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Command } from 'commander';
import { dataPaths } from '../../config/paths.js';
import { languageLimits } from '../../engine/limits.js';
import { jailerBinary } from '../../images/vm/vmm-binaries.js';
import { ErrorCodes, RunnerError } from '../../errors.js';
import { ImageStore } from '../../images/store.js';
import { readKernelManifest, requireKernelManifest } from '../../images/vm/kernel.js';
import { vmPaths } from '../../images/vm/paths.js';
import { getLanguage } from '../../languages/lookup.js';
import { chooseBackend, hostCapabilities } from '../../sandbox/availability.js';
import { openCgroupDriver } from '../../sandbox/cgroup/detect.js';
import { DEFAULT_HOST_ID_RANGE } from '../../sandbox/host-ids.js';
import { JAILER_MODES, type JailerMode } from '../../sandbox/backend-host.js';
import { currentSnapshot, snapshotFiles, type SnapshotManifest } from '../../sandbox/firecracker/snapshot-manifest.js';
import { exitWith, printJson, type CliContext } from '../context.js';
import { choiceOption, integerOption } from '../parse.js';

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
        const paths = dataPaths();
        const capabilities = hostCapabilities(paths);
        chooseBackend('firecracker', capabilities);
        const language = getLanguage(flags.lang);
        const image = new ImageStore(paths.imagesDir).manifest(language.image);
        if (!image) throw new RunnerError(ErrorCodes.IMAGE_MISSING, `image '${language.image}' is not built`, { hint: `run \`infra.operator setup --vm --lang ${language.id}\`` });
        const vm = vmPaths(paths);
        const kernel = requireKernelManifest(vm);
        const limits = { ...languageLimits(language), ...(flags.memory ? { memoryBytes: flags.memory * 1024 * 1024 } : {}) };
        // Loaded here, not at the CLI's start: the Firecracker client pulls in undici.
        const { openBackend } = await import('../../sandbox/firecracker/open.js');
        const backend = openBackend({ paths, cgroups: openCgroupDriver(), hostIds: DEFAULT_HOST_ID_RANGE, capabilities, firecrackerJailer: flags.firecrackerJailer });
        const manifest = await backend.snapshot(image, kernel.release, limits);
        if (flags.json) printJson(manifest);
        else process.stderr.write(`snapshot of ${manifest.image} made (${manifest.memory_mib} MiB guest, ${manifest.jailed ? 'jailed' : 'not jailed'}): ${snapshotFiles(vm, manifest.image).dir}\n`);
        return 0;
      }),
    );

  snapshot
    .command('list')
    .description('list snapshots and whether they are current (made from the image, kernel and initramfs as they are, and jailed if Firecracker runs jailed here)')
    .option('--json', 'print JSON')
    .action(
      exitWith(ctx, async (flags: { json?: boolean }) => {
        const paths = dataPaths();
        const vm = vmPaths(paths);
        const store = new ImageStore(paths.imagesDir);
        const kernel = readKernelManifest(vm)?.release ?? '';
        const jailed = jailerBinary(vm) !== null;
        const rows = store
          .list()
          .filter((status) => existsSync(snapshotFiles(vm, status.id).manifest))
          .map((status) => {
            const made = JSON.parse(readFileSync(snapshotFiles(vm, status.id).manifest, 'utf8')) as SnapshotManifest;
            return { ...made, jailed: made.jailed ?? false, current: status.manifest !== null && currentSnapshot(vm, status.manifest, kernel, jailed) !== null };
          });
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
        await rm(snapshotFiles(vmPaths(dataPaths()), getLanguage(flags.lang).image).dir, { recursive: true, force: true });
        return 0;
      }),
    );
  return snapshot;
}
