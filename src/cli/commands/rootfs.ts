import { Command } from 'commander';
import { dataPaths } from '../../config/paths.js';
import { InvalidRequestError } from '../../errors.js';
import type { ImageStore } from '../../images/store.js';
import { IMAGES } from '../../languages/catalog.js';
import { getLanguage, languagesOfImage } from '../../languages/lookup.js';
import { exitWith, printJson, type CliContext } from '../context.js';
import { listOption } from '../parse.js';
import { progressPrinter } from '../progress.js';
import { addTransferCommands } from './rootfs-transfer.js';

/** Images named by languages (`--lang`) or by image id (`rm` also takes image ids). */
function imagesFor(languages: readonly string[]): string[] {
  return [...new Set(languages.map((name) => getLanguage(name).image))];
}

export function rootfsCommand(ctx: CliContext): Command {
  const openStore = async (): Promise<ImageStore> => new (await import('../../images/store.js')).ImageStore(dataPaths().imagesDir);
  const rootfs = new Command('rootfs').description('build, list and remove language images');

  rootfs
    .command('build')
    .description('build language images (debootstrap + apt); skips images whose recipe is unchanged')
    .option('--lang <ids>', 'comma-separated languages', listOption)
    .option('--all', 'every language in the catalog')
    .option('--force', 'rebuild even when up to date')
    .option('--mirror <url>', 'Debian mirror', process.env.RUNNER_CODES_MIRROR)
    .option('-q, --quiet', 'print steps only, not the tools\' output')
    .option('--json', 'print a JSON summary on stdout')
    .action(
      exitWith(ctx, async (flags: { lang?: string[]; all?: boolean; force?: boolean; mirror?: string; quiet?: boolean; json?: boolean }) => {
        if (!flags.all && !flags.lang?.length) throw new InvalidRequestError('--lang', 'name languages with --lang a,b or use --all');
        const ids = flags.all ? IMAGES.map((i) => i.id) : imagesFor(flags.lang ?? []);
        const { buildImages } = await import('../../images/builder.js');
        const reports = await buildImages(await openStore(), ids, {
          ...(flags.force ? { force: true } : {}),
          ...(flags.mirror ? { mirror: flags.mirror } : {}),
          onProgress: progressPrinter({ quiet: flags.quiet === true }),
        });
        if (flags.json) printJson(reports.map((r) => ({ image: r.image, built: r.built, seconds: r.seconds, bytes: r.manifest.bytes, versions: r.manifest.versions })));
        return 0;
      }),
    );

  rootfs
    .command('list')
    .description('list images: built or not, size, toolchain versions')
    .option('--json', 'print JSON')
    .action(
      exitWith(ctx, async (flags: { json?: boolean }) => {
        const rows = (await openStore()).list().map((s) => ({
          image: s.id,
          languages: languagesOfImage(s.id).map((l) => l.id),
          built: s.built,
          stale: s.stale,
          bytes: s.manifest?.bytes ?? 0,
          versions: s.manifest?.versions ?? {},
          built_at: s.manifest?.built_at ?? null,
        }));
        if (flags.json) {
          printJson(rows);
        } else {
          const imageWidth = Math.max(10, ...rows.map((r) => r.image.length));
          for (const r of rows) {
            const state = r.built ? (r.stale ? 'stale' : 'built') : 'missing';
            process.stdout.write(`${r.image.padEnd(imageWidth)} ${state.padEnd(8)} ${r.built ? `${Math.round(r.bytes / 1e6)} MB`.padStart(7) : ''.padStart(7)}  ${r.languages.join(', ')}\n`);
          }
        }
        return 0;
      }),
    );

  rootfs
    .command('rm')
    .description('remove images, by language (--lang) or image id')
    .option('--lang <ids>', 'comma-separated languages', listOption)
    .argument('[images...]', 'image ids')
    .action(
      exitWith(ctx, async (images: string[], flags: { lang?: string[] }) => {
        const ids = [...images, ...imagesFor(flags.lang ?? [])];
        if (ids.length === 0) throw new InvalidRequestError('--lang', 'name images or languages to remove');
        for (const id of ids) {
          if (!IMAGES.some((i) => i.id === id)) throw new InvalidRequestError('images', `unknown image '${id}' (known: ${IMAGES.map((i) => i.id).join(', ')})`);
        }
        const store = await openStore();
        for (const id of ids) process.stdout.write(`${(await store.remove(id)) ? 'removed' : 'not built'} ${id}\n`);
        return 0;
      }),
    );
  addTransferCommands(rootfs, ctx);
  return rootfs;
}
