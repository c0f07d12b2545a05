import { Command } from 'commander';
import { defaultMaximaSettings, engineMaxima } from '../../engine/maxima.js';
import { BACKEND_CHOICES } from '../../sandbox/backend-names.js';
import { exitWith, type CliContext } from '../context.js';
import { choiceOption, integerOption } from '../parse.js';

const HELP_AFTER = `
Speaks the Model Context Protocol on stdin/stdout for an MCP host (Claude Desktop, an IDE, an agent
framework); nothing but protocol goes to stdout, diagnostics go to stderr. A host's configuration:

  { "mcpServers": { "runner-codes": { "command": "npx", "args": ["infra.operator", "mcp"] } } }

Tools: run_code, list_languages, create_session, run_in_session, run_cell, write_file, read_file,
list_files, close_session (docs/mcp.md). The sessions live in this process: they all end when the
host closes the connection. The same tools are served over HTTP at /mcp by \`infra.operator api\`.
`;

/** The service and the MCP server load on use: --help needs neither. */
const serving = () => Promise.all([import('../../compose/open-service.js'), import('../../mcp/stdio.js')]);

export function mcpCommand(ctx: CliContext): Command {
  return new Command('mcp')
    .description('serve the MCP tools (run_code, sessions, run_cell, files) over stdio for an MCP host')
    .option('--backend <name>', `isolation backend: ${BACKEND_CHOICES.join(', ')} (default auto)`, choiceOption('--backend', BACKEND_CHOICES))
    .option('--concurrency <n>', 'executions running at once (default 2)', integerOption('--concurrency', 1))
    .addHelpText('after', HELP_AFTER)
    .action(
      exitWith(ctx, async (flags: { backend?: (typeof BACKEND_CHOICES)[number]; concurrency?: number }) => {
        const [{ openService }, { serveStdio }] = await serving();
        const log = (message: string): void => void process.stderr.write(`infra.operator mcp: ${message}\n`);
        const concurrency = flags.concurrency ?? 2;
        const service = await openService({
          engine: { ...engineMaxima(defaultMaximaSettings()), ...(flags.backend ? { backend: flags.backend } : {}) },
          concurrency,
          maxQueued: concurrency * 8,
        });
        // A signal stops at once: running programs are killed (their calls answer cancelled), then the connection ends.
        const stop = (): void => {
          service.cancelAll();
          process.stdin.destroy();
        };
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
        try {
          await serveStdio(service, log);
        } finally {
          process.off('SIGTERM', stop);
          process.off('SIGINT', stop);
          await service.close();
        }
        return 0;
      }),
    );
}
