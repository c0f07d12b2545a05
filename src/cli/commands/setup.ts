import { Command } from 'commander';
import { setupHost } from '../../host/setup.js';
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
    .option('--mirror <url>', 'Debian mirror', process.env.RUNNER_CODES_MIRROR)
    .option('-q, --quiet', 'print steps only, not the tools\' output')
    .option('--json', 'print a JSON summary on stdout')
    .action(
      exitWith(ctx, async (flags: { lang?: string[]; all?: boolean; vm?: boolean; firecracker?: string; mirror?: string; quiet?: boolean; json?: boolean }) => {
        if (flags.all && flags.lang?.length) throw new InvalidRequestError('--all', 'give either --all or --lang, not both');
        if (flags.firecracker && !flags.vm) throw new InvalidRequestError('--firecracker', 'goes with --vm');
        const languages = flags.all ? LANGUAGES.map((language) => language.id) : flags.lang?.length ? flags.lang : DEFAULT_LANGUAGES;
        const report = await setupHost({
          languages,
          vm: flags.vm === true,
          ...(flags.firecracker ? { firecracker: flags.firecracker } : {}),
          ...(flags.mirror ? { mirror: flags.mirror } : {}),
          onProgress: progressPrinter({ quiet: flags.quiet === true }),
        });
        if (flags.json) {
          printJson({
            installed_packages: report.installedPackages,
            images: report.images.map((r) => ({ image: r.image, built: r.built, seconds: r.seconds, versions: r.manifest.versions })),
            ...(report.vm ? { vm: { kernel: report.vm.kernel.release, initramfs: report.vm.initramfs, disks_made: report.vm.disks, firecracker: report.vm.firecracker ?? null } } : {}),
          });
        } else {
          process.stderr.write('setup complete: try `infra.operator run --lang python --code "print(1)"`\n');
        }
        return 0;
      }),
    );
}
