import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { InvalidRequestError, isRunnerError } from '../errors.js';
import { describeLanguage } from '../engine/describe-language.js';
import { kernelLanguages } from '../engine/kernel.js';
import { decodeContent, type ExecuteRequest } from '../engine/request.js';
import type { Service } from '../engine/service.js';
import type { SessionExecRequest, SessionListing } from '../engine/sessions/session-service.js';
import { guessMime } from '../engine/mime-types.js';
import { allLanguages } from '../languages/lookup.js';
import { ConnectionSessions } from './connection-sessions.js';
import {
  CloseSessionInput, CreateSessionInput, ListFilesInput, ReadFileInput, RunCellInput, RunCodeInput, RunInSessionInput, WriteFileInput,
} from './tool-inputs.js';
import { cellContent, executionContent, textContent, toolError } from './tool-results.js';

/** The server's name and version as MCP clients see them (initialize). */
const SERVER_INFO = { name: 'runner-codes', version: '0.1.0' };

const INSTRUCTIONS = `Runs code in isolated sandboxes (no network, hard limits) in many languages.
run_code runs one program from nothing and returns its stdout, stderr and exit code (and images it saved under outputs/).
For work in steps (write files, run, read results, run again) create_session, then write_file/run_in_session/read_file/list_files, and close_session when done.
For notebook-style state (variables that persist, plots shown inline) create_session with language "python" or "python-datascience" and use run_cell.`;

export interface McpServerOptions {
  /** Where the server's own diagnostics go (stderr for stdio, the request log over HTTP). */
  log: (message: string) => void;
  /** Tool calls being answered are added here until they are (stdio waits for them at the end of its input). */
  pending?: Set<Promise<unknown>>;
}

/** A tool handler's failures (RunnerError: bad input, a missing session, a limit) become isError results naming the field. */
async function answered(work: () => Promise<CallToolResult>, log: (message: string) => void): Promise<CallToolResult> {
  try {
    return await work();
  } catch (err) {
    if (!isRunnerError(err)) log(`tool failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return toolError(err);
  }
}

function listingText(path: string, { entries, truncated }: SessionListing): string {
  if (entries.length === 0) return `${path === '' ? 'the work directory' : path} is empty`;
  const lines = entries.map((entry) => `${entry.type === 'dir' ? 'dir ' : entry.type === 'file' ? 'file' : entry.type}  ${String(entry.size).padStart(9)}  ${entry.path}`);
  return `${lines.join('\n')}${truncated ? '\n(listing cut at the server\'s most entries)' : ''}`;
}

/**
 * An MCP server whose tools call the execution service and its sessions, as the HTTP and CLI edges
 * do: the same validation, limits, queue and owner checks. One per MCP connection; its sessions
 * (those not kept alive) end with `connection.end()`.
 */
export function createMcpServer(service: Service, connection: ConnectionSessions, { log, pending }: McpServerOptions): McpServer {
  const server = new McpServer(SERVER_INFO, { instructions: INSTRUCTIONS });
  const { sessions } = service;
  const { owner } = connection;
  const run = (work: () => Promise<CallToolResult>): Promise<CallToolResult> => {
    const answer = answered(work, log);
    pending?.add(answer);
    void answer.finally(() => pending?.delete(answer));
    return answer;
  };

  server.registerTool(
    'run_code',
    {
      title: 'Run a program',
      description:
        'Run a program once in a fresh, isolated sandbox (no network) and get its stdout, stderr and exit code. ' +
        'Nothing persists between calls: use a session for work in steps. Files the program writes under outputs/ come back ' +
        '(PNG/JPEG images as images, e.g. a matplotlib plt.savefig("outputs/plot.png")). A program that fails is a normal result: read its exit code and stderr.',
      inputSchema: RunCodeInput,
      annotations: { openWorldHint: false },
    },
    ({ language, code, files, stdin, args, env, timeout }, extra) =>
      run(async () => {
        const request: ExecuteRequest = {
          language,
          ...(code !== undefined ? { code } : {}),
          ...(files !== undefined ? { files } : {}),
          ...(stdin !== undefined ? { stdin } : {}),
          ...(args !== undefined ? { args } : {}),
          ...(env !== undefined ? { env } : {}),
          ...(timeout !== undefined ? { limits: { timeoutMs: timeout } } : {}),
        };
        return executionContent(await service.execute(request, { signal: extra.signal }));
      }),
  );

  server.registerTool(
    'list_languages',
    {
      title: 'List languages',
      description: 'The languages run_code and create_session accept: id, aliases, version, and whether run_cell (stateful interpreter) supports it. Only installed languages can run.',
      inputSchema: {},
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    () =>
      run(async () => {
        const cells = new Set(kernelLanguages());
        const lines = allLanguages().map((lang) => describeLanguage(lang, service.images))
          .filter((info) => info.installed)
          .map((info) => `${info.id}${info.version ? ` ${info.version}` : ''}${info.aliases.length > 0 ? ` (aliases: ${info.aliases.join(', ')})` : ''}${cells.has(info.id) ? ' [run_cell]' : ''}`);
        return textContent(lines.length > 0 ? lines.join('\n') : 'no language is installed on this server (run `infra.operator setup`)');
      }),
  );

  server.registerTool(
    'create_session',
    {
      title: 'Start a session',
      description:
        'Start a sandbox that stays up between calls: files and processes persist in it, nowhere else. Returns its session_id for the other session tools. ' +
        'It ends with this MCP connection unless keep_alive is true, and in any case after its idle timeout (default 5 minutes) or its lifetime. Close it with close_session when done.',
      inputSchema: CreateSessionInput,
      annotations: { openWorldHint: false },
    },
    ({ language, keep_alive, idle_timeout_ms, env, files }, extra) =>
      run(async () => {
        const info = await sessions.create(owner, {
          ...(language !== undefined ? { language } : {}),
          ...(idle_timeout_ms !== undefined ? { idleTimeoutMs: idle_timeout_ms } : {}),
          ...(env !== undefined ? { env } : {}),
          ...(files !== undefined ? { files } : {}),
        }, { signal: extra.signal });
        if (!keep_alive) connection.tie(info.id);
        const ends = keep_alive ? `kept alive past this connection; ends when idle ${info.idle_timeout_ms} ms, at ${info.max_expires_at} at the latest` : `ends with this connection, or when idle ${info.idle_timeout_ms} ms`;
        return {
          content: [{ type: 'text', text: `session_id: ${info.id}\nlanguage: ${info.language}${info.version ? ` ${info.version}` : ''}\n${ends}` }],
          structuredContent: { ...info },
        };
      }),
  );

  server.registerTool(
    'run_in_session',
    {
      title: 'Run in a session',
      description:
        'Run a program (code, in the session\'s language) or a command (an argv such as ["ls", "-la"]) in a session, as a new process in its work directory: ' +
        'files written before are there, files it writes stay. Returns stdout, stderr and exit code. For state kept in memory between calls use run_cell.',
      inputSchema: RunInSessionInput,
      annotations: { openWorldHint: false },
    },
    ({ session_id, code, command, stdin, args, env, files, timeout }, extra) =>
      run(async () => {
        if ((code === undefined) === (command === undefined)) throw new InvalidRequestError('code', 'give either code or command');
        const request: SessionExecRequest = {
          ...(code !== undefined ? { code } : {}),
          ...(command !== undefined ? { command } : {}),
          ...(stdin !== undefined ? { stdin } : {}),
          ...(args !== undefined ? { args } : {}),
          ...(env !== undefined ? { env } : {}),
          ...(files !== undefined ? { files } : {}),
          ...(timeout !== undefined ? { timeoutMs: timeout } : {}),
        };
        return executionContent(await sessions.execute(owner, session_id, request, { signal: extra.signal }));
      }),
  );

  server.registerTool(
    'run_cell',
    {
      title: 'Run an interpreter cell',
      description:
        'Run a cell in the session\'s stateful interpreter (python, python-datascience or javascript sessions), like a notebook: variables, imports and functions persist between cells. ' +
        'Returns printed output, the error with its traceback, the last expression\'s value, and matplotlib figures as images.',
      inputSchema: RunCellInput,
      annotations: { openWorldHint: false },
    },
    ({ session_id, code, timeout }, extra) =>
      run(async () => cellContent(await sessions.runCode(owner, session_id, { code, ...(timeout !== undefined ? { timeoutMs: timeout } : {}) }, { signal: extra.signal }))),
  );

  server.registerTool(
    'write_file',
    {
      title: 'Write a file into a session',
      description: 'Write a file into the session\'s work directory (path relative to it; missing directories are created, an existing file is replaced).',
      inputSchema: WriteFileInput,
      annotations: { idempotentHint: true, openWorldHint: false },
    },
    ({ session_id, path, content, encoding }) =>
      run(async () => {
        const bytes = decodeContent({ name: path, content, ...(encoding ? { encoding } : {}) }, 'content');
        const written = await sessions.putFile(owner, session_id, path, bytes);
        return textContent(`wrote ${written.size} bytes to ${written.path}`);
      }),
  );

  server.registerTool(
    'read_file',
    {
      title: 'Read a file from a session',
      description: 'Read a file from the session\'s work directory: text as text, PNG/JPEG as an image, other binary files as base64. A directory is listed instead.',
      inputSchema: ReadFileInput,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    ({ session_id, path }) =>
      run(async () => {
        const found = await sessions.getFile(owner, session_id, path);
        if ('entries' in found) return textContent(listingText(path, found));
        const mime = guessMime(path);
        if (mime === 'image/png' || mime === 'image/jpeg') return { content: [{ type: 'image', data: found.content.toString('base64'), mimeType: mime }] };
        const asText = new TextDecoder('utf-8', { fatal: true });
        try {
          return textContent(asText.decode(found.content));
        } catch {
          return textContent(`${path} is binary (${found.size} bytes, ${mime}); base64:\n${found.content.toString('base64')}`);
        }
      }),
  );

  server.registerTool(
    'list_files',
    {
      title: 'List files in a session',
      description: 'List the files below a directory of the session\'s work directory, recursively: type, size in bytes, path (symbolic links are listed, never followed).',
      inputSchema: ListFilesInput,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    ({ session_id, path = '' }) => run(async () => textContent(listingText(path, await sessions.listFiles(owner, session_id, path)))),
  );

  server.registerTool(
    'close_session',
    {
      title: 'End a session',
      description: 'End a session at once: its sandbox, every process and every file in it are destroyed.',
      inputSchema: CloseSessionInput,
      annotations: { destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    ({ session_id }) =>
      run(async () => {
        await sessions.remove(owner, session_id);
        connection.untie(session_id);
        return textContent(`session ${session_id} ended`);
      }),
  );

  return server;
}
