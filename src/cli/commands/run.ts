import { Command } from 'commander';
import { DEFAULT_LIMITS, LIMIT_OPTIONS } from '../../engine/limits.js';
import { MAXIMA_OPTIONS, defaultMaximaSettings, engineMaxima, type MaximaSettings } from '../../engine/maxima.js';
import { exitWith, printJson, type CliContext } from '../context.js';
import { exitCodeOfResult } from '../exit-codes.js';
import { reportPlain } from '../report.js';
import { choiceOption, integerOption, numberFlag, repeatable } from '../parse.js';
import type { RunFlags } from '../run-request.js';
import { BACKEND_CHOICES } from '../../sandbox/backend-names.js';
import { longFlag } from '../field-names.js';

/**
 * Loaded when a program runs, not at the CLI's start: the engine and its host probes are most of
 * the modules, and `--help`, a usage error or another command needs none of them.
 */
const execution = () => Promise.all([import('../../compose/open-service.js'), import('../run-request.js')]);

const HELP_AFTER = `
Input: --stdin, --stdin-file PATH, or data piped or redirected in (\`echo x | infra.operator run …\`,
\`… < input.txt\`) is the program's stdin (UTF-8 text, at most --max-stdin bytes). A terminal, /dev/null
or a socket is not read; \`--stdin-file -\` reads stdin whatever it is, --no-stdin ignores it.
\`--file -\` reads the program's source from stdin instead.

Exit code, with and without --json: the program's (128 + signal when it was killed, e.g. 137 on a
timeout); 2 for bad input (the message names the flag); 125 when Runner Codes itself failed.

Examples:
  infra.operator run --lang python --code "print(1)"
  infra.operator run --lang c --file hello.c --stdin world --json
  echo world | infra.operator run --lang python --code "print('hello', input())"
  infra.operator run --lang python --file - < prog.py
  infra.operator run --lang bash --code 'sleep 90' --timeout 90000 --max-timeout 120000
  infra.operator run --lang python --file plot.py --outputs-dir ./out   # what plot.py wrote to outputs/
`;

export function runCommand(ctx: CliContext): Command {
  const command = new Command('run')
    .description("run a program in a fresh sandbox; exits with the program's exit code")
    .requiredOption('-l, --lang <language>', 'language id or alias (see `languages`)')
    .option('-c, --code <source>', 'program source')
    .option('-f, --file <path>', 'source file (repeat for multi-file programs; the first is the entry); - reads the source from stdin', repeatable)
    .option('--entry <name>', 'entry file name when several files are given')
    .option('--stdin <text>', 'text given to the program on stdin (instead of what is piped in)')
    .option('--stdin-file <path>', 'file whose content is given on stdin; - reads our stdin even when it is not a pipe')
    .option('--no-stdin', 'give the program an empty stdin even when data is piped in')
    .option('--args <arg...>', 'arguments for the program (or put them after --)')
    .option('-e, --env <NAME=VALUE>', 'environment variable for the program (repeatable)', repeatable);
  for (const limit of LIMIT_OPTIONS) {
    command.option(limit.flag, `${limit.description} (default ${DEFAULT_LIMITS[limit.target] / limit.scale})`, integerOption(longFlag(limit.flag), limit.min));
  }
  for (const maximum of MAXIMA_OPTIONS) {
    command.option(maximum.flag, `${maximum.description} (default ${maximum.default})`, integerOption(longFlag(maximum.flag), maximum.min));
  }
  return command
    .option('--backend <name>', `isolation backend: ${BACKEND_CHOICES.join(', ')} (default auto)`, choiceOption('--backend', BACKEND_CHOICES))
    .option('--image <ref>', 'pin the image: a digest (sha256:…) or name:tag from `rootfs ls` (default: the language\'s current image)')
    .option('--json', "print the full result object as JSON instead of the program's output")
    .option('--base64', 'with --json: stdout and stderr as base64 (binary-safe) instead of UTF-8 text')
    .option('--outputs-dir <dir>', 'write the files the program leaves under outputs/ into this directory')
    .argument('[args...]', 'arguments for the program, after --')
    .addHelpText('after', HELP_AFTER)
    .action(
      exitWith(ctx, async (positional: string[], flags: RunFlags & Record<string, unknown>) => {
        const [{ openService }, { toRequest }] = await execution();
        const maxima = maximaOf(flags);
        const request = await toRequest(flags, positional, maxima);
        // The same service the HTTP API calls, with one slot: this process runs one program.
        const service = await openService({ engine: { ...engineMaxima(maxima), ...(flags.backend ? { backend: flags.backend } : {}) }, concurrency: 1, maxQueued: 0, sessions: false });
        try {
          const result = await service.execute(request, {});
          const outputsDir = flags.outputsDir as string | undefined;
          const saved = outputsDir ? (await import('../save-outputs.js')).saveOutputs(outputsDir, result.outputs) : [];
          if (flags.json) printJson(result);
          else reportPlain(result, outputsDir ? saved : undefined);
          return exitCodeOfResult(result);
        } finally {
          await service.close();
        }
      }),
    );
}

/** The maxima the flags set, the shared defaults otherwise. */
function maximaOf(flags: Record<string, unknown>): MaximaSettings {
  const maxima = defaultMaximaSettings();
  for (const option of MAXIMA_OPTIONS) {
    const value = numberFlag(flags, option.flag);
    if (value !== undefined) maxima[option.key] = value;
  }
  return maxima;
}
