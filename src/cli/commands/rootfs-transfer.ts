import type { Command } from 'commander';
import { dataPaths } from '../../config/paths.js';
import { exitWith, printJson, type CliContext } from '../context.js';
import { transferPrinter } from '../transfer-progress.js';

/** The data home's image store (loaded on use: most commands never need it). */
export async function openStore() {
  return new (await import('../../images/store.js')).ImageStore(dataPaths().imagesDir);
}

/** `rootfs push --lang L REF` and `rootfs pull REF` (docs/registry.md). */
export function addTransferCommands(rootfs: Command, ctx: CliContext): void {
  const refHelp = 'host[:port]/repository:tag (plain HTTP for loopback registries only) or s3://bucket/prefix/repository:tag';
  rootfs
    .command('push')
    .description('push a language\'s image to an OCI registry or an S3 bucket; blobs already there are skipped')
    .requiredOption('--lang <id>', 'the language whose image to push')
    .argument('<ref>', refHelp)
    .option('-q, --quiet', 'print the result only, no progress')
    .option('--json', 'print a JSON report on stdout (progress stays on stderr, as plain lines)')
    .addHelpText('after', '\nCredentials: RUNNER_CODES_REGISTRY_USERNAME / RUNNER_CODES_REGISTRY_PASSWORD; S3: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, RUNNER_CODES_S3_ENDPOINT.\n')
    .action(
      exitWith(ctx, async (refText: string, flags: { lang: string; quiet?: boolean; json?: boolean }) => {
        const { parseRemoteRef } = await import('../../images/registry/ref.js');
        const ref = parseRemoteRef(refText);
        const { pushImage } = await import('../../images/registry/push.js');
        const report = await pushImage(await openStore(), flags.lang, ref, { onEvent: transferPrinter({ quiet: flags.quiet === true, ...(flags.json ? { tty: false } : {}) }) });
        if (flags.json) printJson(report);
        return 0;
      }),
    );

  rootfs
    .command('pull')
    .description('pull an image from an OCI registry or an S3 bucket, verifying every digest, and import it (no build tools used)')
    .argument('<ref>', `${refHelp}; add @sha256:<hex> to accept only that manifest`)
    .option('-q, --quiet', 'print the result only, no progress')
    .option('--json', 'print a JSON report on stdout (progress stays on stderr, as plain lines)')
    .action(
      exitWith(ctx, async (refText: string, flags: { quiet?: boolean; json?: boolean }) => {
        const { parseRemoteRef } = await import('../../images/registry/ref.js');
        const ref = parseRemoteRef(refText);
        const { pullImage } = await import('../../images/registry/pull.js');
        const report = await pullImage(await openStore(), ref, { onEvent: transferPrinter({ quiet: flags.quiet === true, ...(flags.json ? { tty: false } : {}) }) });
        if (flags.json) printJson(report);
        return 0;
      }),
    );
}
