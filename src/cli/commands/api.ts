import { Command } from 'commander';
import { API_OPTIONS, defaultApiConfig } from '../../api/config.js';
import { addOptionRows, configOfFlags } from '../option-rows.js';
import { ErrorCodes, RunnerError } from '../../errors.js';
import { exitWith, type CliContext } from '../context.js';

export function apiCommand(ctx: CliContext): Command {
  const command = new Command('api').description('serve the HTTP API (POST /api/v1/execute, /api/v1/run, Piston v2, /openapi.json, /docs)');
  addOptionRows(command, API_OPTIONS, defaultApiConfig(), ['concurrency'], 'Stops gracefully on SIGTERM/SIGINT.');
  return command.action(
    exitWith(ctx, async (flags: Record<string, unknown>) => {
      const config = configOfFlags(API_OPTIONS, defaultApiConfig(), flags);
      const root = process.getuid?.() === 0 && config.apiUid !== 0;
      if (root && config.queue) {
        // SECURITY: in queue mode nothing here needs root (sandboxes run on the workers), so the
        // whole process drops to the unprivileged uid before it parses a byte of HTTP.
        process.setgroups?.([]);
        process.setgid?.(config.apiUid);
        process.setuid?.(config.apiUid);
      }
      // Loaded on use: the server's dependencies would slow every other command's start.
      const server = config.queue
        ? await (await import('../../api/server.js')).startQueueServer(config)
        : root
          ? await (await import('../../api/separated-server.js')).startSeparatedServer(config)
          : await (await import('../../api/server.js')).startServer(config);
      let stopping = false;
      const never = new Promise<never>(() => undefined);
      // The HTTP side exiting while nobody asked it to stop is a crash; during a stop it is expected.
      const crashed = 'workerExited' in server ? server.workerExited.then(() => (stopping ? never : ('crashed' as const))) : never;
      const outcome = await Promise.race([
        crashed,
        new Promise<'stopped'>((resolve) => {
          const stop = (): void => {
            stopping = true;
            process.stderr.write('shutting down\n');
            void server.close().then(() => resolve('stopped'));
          };
          process.once('SIGTERM', stop);
          process.once('SIGINT', stop);
        }),
      ]);
      if (outcome === 'crashed') {
        await server.close();
        throw new RunnerError(ErrorCodes.INTERNAL, 'the HTTP side of the server exited unexpectedly');
      }
      return 0;
    }),
  );
}
