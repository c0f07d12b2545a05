import { Command } from 'commander';
import { dataPaths } from '../../config/paths.js';
import { InvalidRequestError } from '../../errors.js';
import type { BuildReport } from '../../images/builder.js';
import type { ImageStore } from '../../images/store.js';
import { allImages, findImageRecipe, getLanguage } from '../../languages/lookup.js';
import { exitWith, printJson, type CliContext } from '../context.js';
import { listOption } from '../parse.js';
import { progressPrinter } from '../progress.js';
import { addTransferCommands } from './rootfs-transfer.js';

/** Images named by languages (`--lang`) or by image id (`rm` also takes image ids). */
function imagesFor(languages: readonly string[]): string[] {
  return [...new Set(languages.map((name) => getLanguage(name).image))];
}

interface BuildFlags {
  lang?: string[];
  all?: boolean;
  file?: string;
  check: boolean;
  force?: boolean;
  mirror?: string;
  quiet?: boolean;
  json?: boolean;
}

function summary(r: BuildReport): Record<string, unknown> {
  return { image: r.image, built: r.built, seconds: r.seconds, bytes: r.manifest.bytes, versions: r.manifest.versions };
}

export function rootfsCommand(ctx: CliContext): Command {
  const openStore = async (): Promise<ImageStore> => {
    const store = new (await import('../../images/store.js')).ImageStore(dataPaths().imagesDir);
    await store.openContent();
    return store;
  };
  const rootfs = new Command('rootfs').description('build, list and remove language images');

  rootfs
    .command('build')
    .description('build language images (debootstrap + apt); skips images whose recipe is unchanged')
    .option('--lang <ids>', 'comma-separated languages', listOption)
    .option('--all', 'every language in the catalog')
    .option('--file <path>', 'a custom catalog file (YAML or JSON, docs/custom-images.md): build its images, check its languages, keep them')
    .option('--no-check', "with --file: keep the languages without running their conformance programs")
    .option('--force', 'rebuild even when up to date')
    .option('--mirror <url>', 'Debian mirror', process.env.RUNNER_CODES_MIRROR)
    .option('-q, --quiet', 'print steps only, not the tools\' output')
    .option('--json', 'print a JSON summary on stdout')
    .action(
      exitWith(ctx, async (flags: BuildFlags) => {
        const options = {
          ...(flags.force ? { force: true } : {}),
          ...(flags.mirror ? { mirror: flags.mirror } : {}),
          onProgress: progressPrinter({ quiet: flags.quiet === true }),
        };
        if (flags.file !== undefined) {
          if (flags.all || flags.lang?.length) throw new InvalidRequestError('--file', 'builds what the file declares: drop --lang and --all');
          const extension = await (await import('../../images/recipe-file.js')).readRecipeFile(flags.file);
          const report = await (await import('../../compose/build-extension.js')).buildExtension(extension, { ...options, skipConformance: !flags.check });
          if (flags.json) printJson({ ...report, images: report.images.map(summary) });
          else process.stderr.write(`kept custom catalog '${report.name}' (${report.path}): ${report.languages.map((l) => `${l.id} ${l.version ?? '?'}`).join(', ') || 'no languages'}\n`);
          return 0;
        }
        if (!flags.all && !flags.lang?.length) throw new InvalidRequestError('--lang', 'name languages with --lang a,b, use --all, or give a custom catalog with --file');
        const ids = flags.all ? allImages().map((i) => i.id) : imagesFor(flags.lang ?? []);
        const { buildImages } = await import('../../images/builder.js');
        const reports = await buildImages(await openStore(), ids, options);
        if (flags.json) printJson(reports.map(summary));
        return 0;
      }),
    );

  rootfs
    .command('list')
    .alias('ls')
    .description('list images: built, imported or missing, digest, tags, size, toolchain versions')
    .option('--digests', 'compute the digests not known yet (tars each such image once; cached after)')
    .option('--json', 'print JSON')
    .action(
      exitWith(ctx, async (flags: { digests?: boolean; json?: boolean }) => {
        const { listImages } = await import('../../images/content/image-listing.js');
        const rows = await listImages(await openStore(), { digests: flags.digests === true });
        if (flags.json) {
          printJson(rows);
        } else {
          const imageWidth = Math.max(10, ...rows.map((r) => r.image.length));
          for (const r of rows) {
            const state = !r.built ? 'missing' : !r.current ? 'stored' : r.source === 'imported' ? 'imported' : r.stale ? 'stale' : 'built';
            const digest = r.digest ? r.digest.slice(0, 'sha256:'.length + 12) : r.built ? '(digest: --digests)' : '';
            const size = r.built ? `${Math.round(r.bytes / 1e6)} MB` : '';
            process.stdout.write(`${r.image.padEnd(imageWidth)} ${state.padEnd(8)} ${size.padStart(7)}  ${digest.padEnd(19)}  ${r.languages.join(', ')}${r.tags.length ? `  [${r.tags.join(' ')}]` : ''}\n`);
          }
        }
        return 0;
      }),
    );

  rootfs
    .command('gc')
    .description('remove imported images no tag or language points at, unused blobs and stale temp files')
    .option('--dry-run', 'only report what would be removed')
    .option('--json', 'print JSON')
    .action(
      exitWith(ctx, async (flags: { dryRun?: boolean; json?: boolean }) => {
        const { collectGarbage } = await import('../../images/content/gc.js');
        const report = await collectGarbage(await openStore(), { dryRun: flags.dryRun === true });
        if (flags.json) printJson(report);
        else {
          const verb = flags.dryRun ? 'would remove' : 'removed';
          process.stdout.write(`${verb} ${report.images.length} images, ${report.blobs.length} blobs, ${report.refs.length} tags, ${report.tmp.length} temp files (${(report.bytes / 1e6).toFixed(1)} MB)\n`);
        }
        return 0;
      }),
    );

  rootfs
    .command('rm')
    .description('remove images, by language (--lang) or image id (a custom image goes with its whole custom catalog); name:tag removes a tag (`gc` then frees what nothing uses)')
    .option('--lang <ids>', 'comma-separated languages', listOption)
    .argument('[images...]', 'image ids, or name:tag')
    .action(
      exitWith(ctx, async (args: string[], flags: { lang?: string[] }) => {
        const store = await openStore();
        const tags = args.filter((arg) => arg.includes(':'));
        const ids = [...args.filter((arg) => !arg.includes(':')), ...imagesFor(flags.lang ?? [])];
        if (ids.length === 0 && tags.length === 0) throw new InvalidRequestError('--lang', 'name images or languages to remove');
        const { catalogExtensions } = await import('../../languages/extensions.js');
        const isExtension = (id: string): boolean => catalogExtensions().some((e) => e.name === id || e.images.some((image) => image.id === id));
        for (const id of ids) {
          if (!findImageRecipe(id) && !isExtension(id)) throw new InvalidRequestError('images', `unknown image '${id}' (known: ${allImages().map((i) => i.id).join(', ')})`);
        }
        for (const tag of tags) {
          if (!store.content.refs().some((ref) => ref.ref === tag)) throw new InvalidRequestError('images', `no tag '${tag}' (\`rootfs ls\` lists them)`);
        }
        for (const tag of tags) {
          await store.content.removeRef(tag);
          process.stdout.write(`untagged ${tag}\n`);
        }
        for (const id of ids) {
          if (isExtension(id)) {
            const removed = await (await import('../../compose/build-extension.js')).removeExtension(id);
            if (removed) process.stdout.write(`removed custom catalog ${removed.name}: images ${removed.images.map((i) => i.id).join(', ')}; languages ${removed.languages.map((l) => l.id).join(', ') || '-'}\n`);
            continue;
          }
          process.stdout.write(`${(await store.remove(id)) ? 'removed' : 'not built'} ${id}\n`);
        }
        return 0;
      }),
    );
  addTransferCommands(rootfs, ctx);
  return rootfs;
}
