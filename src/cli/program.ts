import { Command } from 'commander';
import { apiCommand } from './commands/api.js';
import { benchCommand } from './commands/bench.js';
import { doctorCommand } from './commands/doctor.js';
import { languagesCommand } from './commands/languages.js';
import { rootfsCommand } from './commands/rootfs.js';
import { runCommand } from './commands/run.js';
import { sessionCommand } from './commands/session.js';
import { snapshotCommand } from './commands/snapshot.js';
import { setupCommand } from './commands/setup.js';
import type { CliContext } from './context.js';

/**
 * The `infra.operator` program: every command, subcommand and flag. Building it runs no action,
 * so index.ts parses argv with it and the docs test reads the commands and flags the docs may name.
 */
export function cliProgram(ctx: CliContext): Command {
  const program = new Command('infra.operator')
    .description('Runner Codes: run untrusted code safely and fast, in many languages')
    .version('0.1.0')
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({ outputError: (text, write) => write(text) });
  for (const command of [runCommand(ctx), sessionCommand(ctx), apiCommand(ctx), setupCommand(ctx), doctorCommand(ctx), rootfsCommand(ctx), languagesCommand(ctx), snapshotCommand(ctx), benchCommand(ctx)]) {
    program.addCommand(command.exitOverride());
  }
  return program;
}
