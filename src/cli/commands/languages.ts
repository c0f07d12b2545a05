import { Command } from 'commander';
import { dataPaths } from '../../config/paths.js';
import { allLanguages } from '../../languages/lookup.js';
import { describeLanguage } from '../../engine/describe-language.js';
import { exitWith, printJson, type CliContext } from '../context.js';

export function languagesCommand(ctx: CliContext): Command {
  return new Command('languages')
    .description('list languages: id, aliases, version, image built or not, image size')
    .option('--json', 'print a JSON array')
    .action(
      exitWith(ctx, async (flags: { json?: boolean }) => {
        const images = new (await import('../../images/store.js')).ImageStore(dataPaths().imagesDir);
        const rows = allLanguages().map((lang) => describeLanguage(lang, images));
        if (flags.json) {
          printJson(rows);
        } else {
          const size = (r: (typeof rows)[number]): string => (r.installed ? `${Math.round(r.image_bytes / 1e6)} MB` : '-');
          // The id column fits the longest id (python-datascience).
          const idWidth = Math.max(13, ...rows.map((r) => r.id.length + 1));
          process.stdout.write(`${'ID'.padEnd(idWidth)}${'FAMILY'.padEnd(12)}${'VERSION'.padEnd(11)}${'IMAGE'.padEnd(11)}${'SIZE'.padStart(8)}  ALIASES\n`);
          for (const r of rows) {
            const state = r.installed ? 'built' : 'not built';
            process.stdout.write(`${r.id.padEnd(idWidth)}${r.family.padEnd(12)}${(r.version ?? '-').padEnd(11)}${state.padEnd(11)}${size(r).padStart(8)}  ${r.aliases.join(', ')}\n`);
          }
        }
        return 0;
      }),
    );
}
