import * as z from 'zod/v4';

/*
 * The tools' inputs, as zod shapes: the SDK validates every call against them (a bad argument is a
 * tool result naming the field, never a protocol error) and publishes them as JSON Schema in
 * tools/list. Sizes, limits and paths are checked where every edge's are, by the service.
 */

const SessionId = z.string().min(1).max(64).describe('The id create_session returned.');
const Timeout = z.number().int().positive().describe('Wall-clock limit in milliseconds (the server caps it).');
const Stdin = z.string().describe('Text given to the program on standard input.');
const Args = z.array(z.string()).describe('Command-line arguments for the program.');
const Env = z.record(z.string(), z.string()).describe('Environment variables, NAME: value.');

const SubmittedFile = z.object({
  name: z.string().min(1).describe('Relative path, e.g. "main.py" or "data/input.csv".'),
  content: z.string().describe('The file\'s content: text, or base64 when encoding is "base64".'),
  encoding: z.enum(['utf8', 'base64']).optional().describe('How content is written (default "utf8").'),
});

export const RunCodeInput = {
  language: z.string().min(1).max(64).describe('Language id or alias from list_languages, e.g. "python", "javascript", "c", "rust".'),
  code: z.string().optional().describe('The program\'s source, as one file. Give code or files.'),
  files: z.array(SubmittedFile).optional().describe('A multi-file program instead of code; the first file is the entry point. Give code or files.'),
  stdin: Stdin.optional(),
  args: Args.optional(),
  env: Env.optional(),
  timeout: Timeout.optional(),
};

export const CreateSessionInput = {
  language: z.string().min(1).max(64).optional().describe('Language id or alias: the sandbox\'s image and what run_in_session\'s code runs as (default "python-datascience": python with numpy, pandas, matplotlib, scipy, scikit-learn, sympy). run_cell works in python, python-datascience and javascript sessions.'),
  keep_alive: z.boolean().optional().describe('true: the session outlives this MCP connection (until its idle timeout or lifetime ends, or close_session); another connection with the same API key can use it by id. Default false: it ends when the connection does.'),
  idle_timeout_ms: z.number().int().positive().optional().describe('End the session after this long without use (default 5 minutes; the server caps it).'),
  env: Env.optional(),
  files: z.array(SubmittedFile).optional().describe('Files written into the work directory before the session starts.'),
};

export const RunInSessionInput = {
  session_id: SessionId,
  code: z.string().optional().describe('A program of the session\'s language, run as a fresh process (give code or command).'),
  command: z.array(z.string()).min(1).optional().describe('A command as an argv, e.g. ["ls", "-la"] or ["python3", "main.py"] (give code or command). No shell: use ["sh", "-c", "..."] for pipes.'),
  stdin: Stdin.optional(),
  args: Args.optional(),
  env: Env.optional(),
  files: z.array(SubmittedFile).optional().describe('Files written into the work directory before it runs.'),
  timeout: Timeout.optional(),
};

export const RunCellInput = {
  session_id: SessionId,
  code: z.string().min(1).describe('A cell: statements, and an expression last whose value is shown. Variables, imports and functions persist between cells.'),
  timeout: Timeout.optional(),
};

export const WriteFileInput = {
  session_id: SessionId,
  path: z.string().min(1).describe('Relative to the session\'s work directory, e.g. "src/main.py"; missing directories are created, an existing file is replaced.'),
  content: z.string().describe('Text, or base64 when encoding is "base64".'),
  encoding: z.enum(['utf8', 'base64']).optional().describe('How content is written (default "utf8").'),
};

export const ReadFileInput = {
  session_id: SessionId,
  path: z.string().min(1).describe('Relative to the session\'s work directory.'),
};

export const ListFilesInput = {
  session_id: SessionId,
  path: z.string().optional().describe('A directory relative to the work directory (default: the work directory itself).'),
};

export const CloseSessionInput = {
  session_id: SessionId,
};
