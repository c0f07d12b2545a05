import { Command } from 'commander';
import type { CliContext } from './context.js';

/**
 * Every command, in the order `--help` lists them, each loaded from its own module when asked for:
 * a cold start pays only for the command it runs.
 */
const COMMANDS: readonly { name: string; load: (ctx: CliContext) => Promise<Command> }[] = [
  { name: 'run', load: async (ctx) => (await import('./commands/run.js')).runCommand(ctx) },
  { name: 'session', load: async (ctx) => (await import('./commands/session.js')).sessionCommand(ctx) },
  { name: 'mcp', load: async (ctx) => (await import('./commands/mcp.js')).mcpCommand(ctx) },
  { name: 'api', load: async (ctx) => (await import('./commands/api.js')).apiCommand(ctx) },
  { name: 'worker', load: async (ctx) => (await import('./commands/worker.js')).workerCommand(ctx) },
  { name: 'setup', load: async (ctx) => (await import('./commands/setup.js')).setupCommand(ctx) },
  { name: 'doctor', load: async (ctx) => (await import('./commands/doctor.js')).doctorCommand(ctx) },
  { name: 'rootfs', load: async (ctx) => (await import('./commands/rootfs.js')).rootfsCommand(ctx) },
  { name: 'languages', load: async (ctx) => (await import('./commands/languages.js')).languagesCommand(ctx) },
  { name: 'snapshot', load: async (ctx) => (await import('./commands/snapshot.js')).snapshotCommand(ctx) },
  { name: 'bench', load: async (ctx) => (await import('./commands/bench.js')).benchCommand(ctx) },
];

/** First words after which commander prints without reading any command. */
const NO_COMMAND = ['-V', '--version'];

/**
 * The `infra.operator` program: every command, subcommand and flag, or only `command` when that
 * names one (what index.ts does with the command line's first word: the other commands' options
 * are never parsed then), or none for `--version`. Building it runs no action, so the docs test
 * reads the commands and flags the docs may name from it.
 */
export async function cliProgram(ctx: CliContext, command?: string): Promise<Command> {
  const program = new Command('infra.operator')
    .description('Runner Codes: run untrusted code safely and fast, in many languages')
    .version('0.1.0')
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({ outputError: (text, write) => write(text) });
  for (const built of await Promise.all(commandsFor(command).map((entry) => entry.load(ctx)))) {
    program.addCommand(built.exitOverride());
  }
  return program;
}

/** The commands a command line whose first word is `first` can reach. */
function commandsFor(first: string | undefined): typeof COMMANDS {
  if (first !== undefined && NO_COMMAND.includes(first)) return [];
  const named = COMMANDS.filter((entry) => entry.name === first);
  return named.length > 0 ? named : COMMANDS;
}
