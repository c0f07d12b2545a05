import { Command } from 'commander';
import { InvalidRequestError } from '../../errors.js';
import { DEFAULT_LANGUAGES, LANGUAGES } from '../../languages/catalog.js';
import { exitWith, printJson, type CliContext } from '../context.js';
import { listOption } from '../parse.js';
import { progressPrinter } from '../progress.js';

export function setupCommand(ctx: CliContext): Command {
  return new Command('setup')
    .description('install host packages (apt), build the agent and seccomp filter, build the default images; idempotent')
    .option('--lang <ids>', `languages whose images to build (default: ${DEFAULT_LANGUAGES.join(',')})`, listOption)
    .option('--all', 'build the images of every language in the catalog')
    .option('--vm', 'also prepare microVMs: QEMU, the guest kernel and initramfs, a disk per image (docs/vm.md)')
    .option('--firecracker <path>', 'with --vm: a Firecracker binary (≥ 1.16.1) to check and use; Debian has none')
    .option('--jailer <path>', 'with --vm: Firecracker\'s jailer, of the same release; Firecracker then runs jailed (docs/vm.md)')
    .option('--build-kernel', 'with --vm: build the guest kernel from linux-source with Firecracker\'s microVM config (minutes) instead of Debian\'s; kept by later setups')
    .option('--debian-kernel', 'with --vm: go back to Debian\'s cloud kernel after --build-kernel')
    .option('--mirror <url>', 'Debian mirror', process.env.RUNNER_CODES_MIRROR)
    .option('-q, --quiet', 'print steps only, not the tools\' output')
    .option('--json', 'print a JSON summary on stdout')
    .action(
      exitWith(ctx, async (flags: { lang?: string[]; all?: boolean; vm?: boolean; firecracker?: string; jailer?: string; buildKernel?: boolean; debianKernel?: boolean; mirror?: string; quiet?: boolean; json?: boolean }) => {
        if (flags.all && flags.lang?.length) throw new InvalidRequestError('--all', 'give either --all or --lang, not both');
        if (flags.firecracker && !flags.vm) throw new InvalidRequestError('--firecracker', 'goes with --vm');
        if (flags.jailer && !flags.vm) throw new InvalidRequestError('--jailer', 'goes with --vm');
        for (const [flag, given] of [['--build-kernel', flags.buildKernel], ['--debian-kernel', flags.debianKernel]] as const) {
          if (given && !flags.vm) throw new InvalidRequestError(flag, 'goes with --vm');
        }
        if (flags.buildKernel && flags.debianKernel) throw new InvalidRequestError('--build-kernel', 'give either --build-kernel or --debian-kernel, not both');
        const languages = flags.all ? LANGUAGES.map((language) => language.id) : flags.lang?.length ? flags.lang : DEFAULT_LANGUAGES;
        const { setupHost } = await import('../../host/setup.js');
        const report = await setupHost({
          languages,
          vm: flags.vm === true,
          ...(flags.firecracker ? { firecracker: flags.firecracker } : {}),
          ...(flags.jailer ? { jailer: flags.jailer } : {}),
          kernel: flags.buildKernel ? 'built' : flags.debianKernel ? 'debian' : 'keep',
          ...(flags.mirror ? { mirror: flags.mirror } : {}),
          onProgress: progressPrinter({ quiet: flags.quiet === true }),
        });
        if (flags.json) {
          printJson({
            installed_packages: report.installedPackages,
            images: report.images.map((r) => ({ image: r.image, built: r.built, seconds: r.seconds, versions: r.manifest.versions })),
            ...(report.vm ? { vm: { kernel: report.vm.kernel.release, initramfs: report.vm.initramfs, disks_made: report.vm.disks, kernel_source: report.vm.kernel.source ?? 'debian', firecracker: report.vm.firecracker ?? null, jailer: report.vm.jailer ?? null } } : {}),
          });
        } else {
          process.stderr.write('setup complete: try `infra.operator run --lang python --code "print(1)"`\n');
        }
        return 0;
      }),
    );
}
