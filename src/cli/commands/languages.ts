import { Command } from 'commander';
import { dataPaths } from '../../config/paths.js';
import { ImageStore } from '../../images/store.js';
import { LANGUAGES } from '../../languages/catalog.js';
import { describeLanguage } from '../../languages/describe.js';
import { exitWith, printJson, type CliContext } from '../context.js';

export function languagesCommand(ctx: CliContext): Command {
  return new Command('languages')
    .description('list languages: id, aliases, version, image built or not, image size')
    .option('--json', 'print a JSON array')
    .action(
      exitWith(ctx, async (flags: { json?: boolean }) => {
        const images = new ImageStore(dataPaths().imagesDir);
        const rows = LANGUAGES.map((lang) => describeLanguage(lang, images));
        if (flags.json) {
          printJson(rows);
        } else {
          for (const r of rows) {
            process.stdout.write(`${r.id.padEnd(12)} ${(r.version ?? '-').padEnd(10)} ${(r.installed ? 'installed' : 'not built').padEnd(10)} ${r.aliases.join(', ')}\n`);
          }
        }
        return 0;
      }),
    );
}
