#!/usr/bin/env node
import { CommanderError } from 'commander';
import { isRunnerError } from '../errors.js';
import type { CliContext } from './context.js';
import { EXIT, describeError, exitCodeFor } from './exit-codes.js';
import { cliProgram } from './program.js';

/** The CLI entry point (bins `infra.operator` and `runner-codes`): the only place that exits. */
async function main(argv: string[]): Promise<number> {
  const ctx: CliContext = { exitCode: EXIT.OK };
  // argv[2], the first word after the script: a command's name, or an option such as --help.
  const program = await cliProgram(ctx, argv[2]);
  try {
    await program.parseAsync(argv);
    return ctx.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here with exit code 0; usage errors were already printed.
      return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    process.stderr.write(`${describeError(err)}\n`);
    if (!isRunnerError(err) && process.env.RUNNER_CODES_DEBUG) process.stderr.write(`${(err as Error)?.stack}\n`);
    return exitCodeFor(err);
  }
}

/** Resolves once everything written to `stream` so far has been handed to the OS. */
function drained(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed || !stream.writable) return resolve();
    // Writes complete in order: this empty one completes after every earlier one.
    stream.write('', () => resolve());
  });
}

// A reader that goes away (`run … | head -c 10`) is its choice, not our failure: stop writing quietly.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => stream.destroy());

const code = await main(process.argv);
process.exitCode = code;
// Exiting at once would cut output still queued for a pipe (at 64 KiB, the pipe's buffer).
await Promise.all([drained(process.stdout), drained(process.stderr)]);
process.exit(code);
