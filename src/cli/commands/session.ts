import { readFile, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { Command } from 'commander';
import { DEFAULT_LIMITS, LIMIT_OPTIONS } from '../../engine/limits.js';
import type { ExecutionResult } from '../../engine/result.js';
import { InvalidRequestError } from '../../errors.js';
import { exitWith, printJson, type CliContext } from '../context.js';
import { exitCodeOfResult } from '../exit-codes.js';
import { integerOption, numberFlag, repeatable } from '../parse.js';
import { reportPlain } from '../report.js';
import { envOf } from '../run-request.js';
import { DEFAULT_SERVER_URL, SessionClient } from '../session-client.js';

const HELP_AFTER = `
A session is a sandbox that stays up between commands: files and processes in it persist until it is
removed (\`session rm\`), unused past its idle timeout (default 5 min) or past its lifetime. It lives in a
running server, not in this short-lived process: start one with \`infra.operator api\` (here or elsewhere)
and point --url (env RUNNER_CODES_URL, default ${DEFAULT_SERVER_URL}) and --api-key (env
RUNNER_CODES_API_KEY) at it. Every subcommand has --json and --help.

Examples:
  id=$(infra.operator session create --lang python)
  infra.operator session put $id data.csv              # ./data.csv → data.csv in the session
  infra.operator session exec $id --code 'print(open("data.csv").read())'
  infra.operator session exec $id -- ls -la            # an argv, no shell
  infra.operator session get $id out/plot.png plot.png
  infra.operator session ls                            # your sessions; \`ls $id\` lists its files
  infra.operator session rm $id
`;

interface TargetFlags {
  url?: string;
  apiKey?: string;
  json?: boolean;
}

/** The flags every subcommand takes: where the server is, and --json. */
function withTarget(command: Command): Command {
  return command
    .option('--url <url>', `the server (env RUNNER_CODES_URL; default ${DEFAULT_SERVER_URL})`)
    .option('--api-key <key>', 'API key, when the server wants one (env RUNNER_CODES_API_KEY)')
    .option('--json', 'print the reply as JSON');
}

function clientOf(flags: TargetFlags): SessionClient {
  const apiKey = flags.apiKey ?? process.env.RUNNER_CODES_API_KEY;
  return new SessionClient({ url: flags.url ?? process.env.RUNNER_CODES_URL ?? DEFAULT_SERVER_URL, ...(apiKey ? { apiKey } : {}) });
}

const sessionPath = (id: string, rest = ''): string => `/api/v1/sessions/${encodeURIComponent(id)}${rest}`;
const fileQuery = (path: string): string => `?path=${encodeURIComponent(path)}`;

/** A local file's bytes, or our stdin for `-`; the message names the flag or argument. */
async function readLocal(path: string, field: string): Promise<Buffer> {
  if (path === '-') return readStdin(field);
  try {
    return await readFile(path);
  } catch (err) {
    throw new InvalidRequestError(field, `cannot read '${path}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** Past this, stdin is not a file anyone could put (the server's per-file cap is far smaller). */
const MAX_STDIN_BYTES = 256 * 1024 * 1024;

async function readStdin(field: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > MAX_STDIN_BYTES) throw new InvalidRequestError(field, `stdin is more than ${MAX_STDIN_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function printSessions(sessions: { id: string; language: string; expires_at: string; running: number }[]): void {
  if (sessions.length === 0) return void process.stdout.write('no sessions\n');
  process.stdout.write(`${'ID'.padEnd(38)}${'LANGUAGE'.padEnd(14)}${'RUNNING'.padEnd(9)}EXPIRES\n`);
  for (const s of sessions) process.stdout.write(`${s.id.padEnd(38)}${s.language.padEnd(14)}${String(s.running).padEnd(9)}${s.expires_at}\n`);
}

function printEntries(entries: { path: string; type: string; size: number; mode: number; mtime: string }[]): void {
  for (const e of entries) {
    const kind = e.type === 'dir' ? 'd' : e.type === 'symlink' ? 'l' : e.type === 'file' ? '-' : '?';
    process.stdout.write(`${kind}${(e.mode & 0o777).toString(8).padStart(4, '0')} ${String(e.size).padStart(10)} ${e.mtime} ${e.path}${e.type === 'dir' ? '/' : ''}\n`);
  }
}

export function sessionCommand(ctx: CliContext): Command {
  const session = new Command('session').description('sandboxes that live across commands, in a running server: create, exec, put, get, ls, rm').addHelpText('after', HELP_AFTER);

  const create = withTarget(new Command('create'))
    .description('start a session; prints its id (with --json, the whole session)')
    .requiredOption('-l, --lang <language>', 'language id or alias (see `languages`)')
    .option('--idle-timeout <ms>', 'end it after this long unused (default 300000)', integerOption('--idle-timeout', 1000))
    .option('--lifetime <ms>', "end it this long after creation (default: the server's maximum)", integerOption('--lifetime', 1000))
    .option('-e, --env <NAME=VALUE>', 'environment variable of every execution in it (repeatable)', repeatable)
    .option('-f, --file <path>', 'local file written into its work directory under its base name (repeatable)', repeatable);
  for (const limit of LIMIT_OPTIONS) {
    create.option(limit.flag, `${limit.description} (default ${DEFAULT_LIMITS[limit.target] / limit.scale})`, integerOption(limit.flag.replace(/^.*(--[a-z-]+).*$/, '$1'), limit.min));
  }
  create.action(
    exitWith(ctx, async (flags: TargetFlags & { lang: string; idleTimeout?: number; lifetime?: number; env?: string[]; file?: string[] } & Record<string, unknown>) => {
      const limits: Record<string, number> = {};
      for (const option of LIMIT_OPTIONS) {
        const value = numberFlag(flags, option.flag);
        if (value !== undefined) limits[option.field] = value;
      }
      const files = await Promise.all((flags.file ?? []).map(async (path) => ({ name: basename(path), content: (await readLocal(path, '--file')).toString('base64'), encoding: 'base64' as const })));
      const env = flags.env ? envOf(flags.env) : undefined;
      const created = await clientOf(flags).json('POST', '/api/v1/sessions', {
        language: flags.lang,
        ...(Object.keys(limits).length > 0 ? { limits } : {}),
        ...(flags.idleTimeout !== undefined ? { idle_timeout_ms: flags.idleTimeout } : {}),
        ...(flags.lifetime !== undefined ? { lifetime_ms: flags.lifetime } : {}),
        ...(env ? { env } : {}),
        ...(files.length > 0 ? { files } : {}),
      });
      if (flags.json) printJson(created);
      else process.stdout.write(`${created.id}\n`);
      return 0;
    }),
  );

  const exec = withTarget(new Command('exec'))
    .description("run code (--code/--file) or a command (after --) in a session; exits with the program's exit code")
    .argument('<id>', 'the session')
    .argument('[command...]', 'an argv to run, after -- (no shell)')
    .option('-c, --code <source>', "a program of the session's language")
    .option('-f, --file <path>', "a local file holding a program of the session's language")
    .option('--stdin <text>', "text given to the program on stdin")
    .option('-e, --env <NAME=VALUE>', 'environment variable for this execution (repeatable)', repeatable)
    .option('-t, --timeout <ms>', "run-stage wall-clock limit, ms (default: the session's)", integerOption('--timeout', 1))
    .option('--base64', 'with --json: stdout and stderr as base64 (binary-safe)');
  exec.action(
    exitWith(ctx, async (id: string, command: string[], flags: TargetFlags & { code?: string; file?: string; stdin?: string; env?: string[]; timeout?: number; base64?: boolean }) => {
      const given = [flags.code !== undefined, flags.file !== undefined, command.length > 0].filter(Boolean).length;
      if (given !== 1) throw new InvalidRequestError('--code/--file/-- command', 'give exactly one of --code, --file or a command after --');
      const code = flags.file !== undefined ? (await readLocal(flags.file, '--file')).toString('utf8') : flags.code;
      const env = flags.env ? envOf(flags.env) : undefined;
      const result = (await clientOf(flags).json('POST', sessionPath(id, '/execute'), {
        ...(code !== undefined ? { code } : { command }),
        ...(flags.stdin !== undefined ? { stdin: flags.stdin } : {}),
        ...(env ? { env } : {}),
        ...(flags.timeout !== undefined ? { timeout: flags.timeout } : {}),
        // Plain output passes the program's bytes through untouched; JSON carries text unless asked.
        output_encoding: flags.json && !flags.base64 ? 'utf8' : 'base64',
      })) as ExecutionResult;
      if (flags.json) printJson(result);
      else reportPlain(result);
      return exitCodeOfResult(result);
    }),
  );

  const put = withTarget(new Command('put'))
    .description("copy a local file (- for stdin) into the session's work directory")
    .argument('<id>', 'the session')
    .argument('<local>', 'the local file, or - for stdin')
    .argument('[remote]', 'its path in the session (default: the local base name)');
  put.action(
    exitWith(ctx, async (id: string, local: string, remote: string | undefined, flags: TargetFlags) => {
      if (local === '-' && remote === undefined) throw new InvalidRequestError('remote', 'name the path in the session when the content comes from stdin');
      const written = await clientOf(flags).put(sessionPath(id, `/files${fileQuery(remote ?? basename(local))}`), await readLocal(local, 'local'));
      if (flags.json) printJson(written);
      return 0;
    }),
  );

  const get = withTarget(new Command('get'))
    .description('copy a file out of the session (to stdout without [local]); a directory is listed')
    .argument('<id>', 'the session')
    .argument('<remote>', 'its path in the session')
    .argument('[local]', 'where to write it (default: stdout)');
  get.action(
    exitWith(ctx, async (id: string, remote: string, local: string | undefined, flags: TargetFlags) => {
      const found = await clientOf(flags).bytes(sessionPath(id, `/files${fileQuery(remote)}`));
      if ('json' in found) {
        const listing = found.json as { entries: Parameters<typeof printEntries>[0] };
        if (flags.json) printJson(listing);
        else printEntries(listing.entries);
      } else if (local !== undefined) {
        await writeFile(local, found.bytes);
      } else {
        process.stdout.write(found.bytes);
      }
      return 0;
    }),
  );

  const ls = withTarget(new Command('ls'))
    .description("list your sessions; with an id, the files in that session's work directory (or [path])")
    .argument('[id]', 'a session')
    .argument('[path]', 'a directory in it');
  ls.action(
    exitWith(ctx, async (id: string | undefined, path: string | undefined, flags: TargetFlags) => {
      const client = clientOf(flags);
      if (id === undefined) {
        const { sessions } = await client.json('GET', '/api/v1/sessions');
        if (flags.json) printJson(sessions);
        else printSessions(sessions);
        return 0;
      }
      const listing = await client.json('GET', sessionPath(id, `/files${path ? fileQuery(path) : ''}`));
      if (flags.json) printJson(listing);
      else printEntries(listing.entries);
      return 0;
    }),
  );

  const rm = withTarget(new Command('rm'))
    .description('end a session at once (its sandbox, processes and files are destroyed); with [path], delete that file or directory in it instead')
    .argument('<id>', 'the session')
    .argument('[path]', 'a file or directory in it');
  rm.action(
    exitWith(ctx, async (id: string, path: string | undefined, flags: TargetFlags) => {
      await clientOf(flags).json('DELETE', sessionPath(id, path === undefined ? '' : `/files${fileQuery(path)}`));
      if (flags.json) printJson({ deleted: path === undefined ? { session: id } : { session: id, path } });
      return 0;
    }),
  );

  const keepalive = withTarget(new Command('keepalive')).description('reset the idle deadline of a session').argument('<id>', 'the session');
  keepalive.action(
    exitWith(ctx, async (id: string, flags: TargetFlags) => {
      const info = await clientOf(flags).json('POST', sessionPath(id, '/keepalive'));
      if (flags.json) printJson(info);
      else process.stdout.write(`${info.id} expires at ${info.expires_at}\n`);
      return 0;
    }),
  );

  for (const sub of [create, exec, put, get, ls, rm, keepalive]) session.addCommand(sub.exitOverride());
  return session;
}
