import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';

/** What a tool answered, as the SDK's Client gives it. */
export interface ToolAnswer {
  isError: boolean;
  /** Every text block, joined. */
  text: string;
  images: { data: string; mimeType: string }[];
  structured: any;
}

export async function call(client: Client, name: string, args: Record<string, unknown>): Promise<ToolAnswer> {
  const result = (await client.callTool({ name, arguments: args })) as {
    isError?: boolean;
    content: { type: string; text?: string; data?: string; mimeType?: string }[];
    structuredContent?: unknown;
  };
  return {
    isError: result.isError === true,
    text: result.content.filter((c) => c.type === 'text').map((c) => c.text).join('\n'),
    images: result.content.filter((c) => c.type === 'image').map((c) => ({ data: c.data!, mimeType: c.mimeType! })),
    structured: result.structuredContent,
  };
}

/** Calls a tool that must succeed; returns its answer. */
export async function ok(client: Client, name: string, args: Record<string, unknown>): Promise<ToolAnswer> {
  const answer = await call(client, name, args);
  assert.equal(answer.isError, false, `${name} failed: ${answer.text}`);
  return answer;
}

export const TOOL_NAMES = ['close_session', 'create_session', 'list_files', 'list_languages', 'read_file', 'run_cell', 'run_code', 'run_in_session', 'write_file'];

const PNG_MAGIC = '89504e470d0a1a0a';

/**
 * The tools' behaviour, the same over every transport: `client()` is a connected Client of the
 * transport under test (one for the file); `installed(id)` says whether a language's image is built.
 */
export function toolTests(client: () => Client, installed: (language: string) => boolean): void {
  it('lists every tool with a description a model can choose by and a JSON Schema input', async () => {
    const { tools } = await client().listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), TOOL_NAMES);
    for (const tool of tools) {
      assert.ok((tool.description ?? '').length >= 60, `${tool.name} has a real description`);
      assert.equal(tool.inputSchema.type, 'object', tool.name);
    }
    const runCode = tools.find((t) => t.name === 'run_code')!;
    assert.deepEqual(runCode.inputSchema.required, ['language']);
    assert.deepEqual(Object.keys(runCode.inputSchema.properties ?? {}).sort(), ['args', 'code', 'env', 'files', 'language', 'stdin', 'timeout']);
    const session = tools.find((t) => t.name === 'run_in_session')!;
    assert.deepEqual(session.inputSchema.required, ['session_id']);
  });

  it('run_code runs python and answers stdout, stderr and the exit code', async () => {
    const answer = await ok(client(), 'run_code', { language: 'python', code: 'import sys\nprint(input() * 2)\nprint("to err", file=sys.stderr)', stdin: 'ab\n' });
    assert.match(answer.text, /^exit code: 0$/m);
    assert.match(answer.text, /--- stdout ---\nabab\n/);
    assert.match(answer.text, /--- stderr ---\nto err\n/);
    assert.deepEqual(answer.images, []);
  });

  it('a failing program is a result, not a tool error: its exit code and traceback', async () => {
    const answer = await ok(client(), 'run_code', { language: 'python', code: 'print("before")\nraise ValueError("boom")' });
    assert.match(answer.text, /^exit code: 1$/m);
    assert.match(answer.text, /ValueError: boom/);
    assert.match(answer.text, /--- stdout ---\nbefore\n/);
    const slow = await ok(client(), 'run_code', { language: 'python', code: 'import time\ntime.sleep(30)', timeout: 500 });
    assert.match(slow.text, /timed out/);
    if (installed('c')) {
      const compile = await ok(client(), 'run_code', { language: 'c', code: 'int main(void) { return missing; }' });
      assert.match(compile.text, /^compilation failed, exit code: 1$/m);
      assert.match(compile.text, /main\.c:1:25: error: .missing. undeclared/);
    }
  });

  it('bad arguments are tool errors naming the field, never protocol errors', async () => {
    const wrongType = await call(client(), 'run_code', { language: 42, code: 'print(1)' });
    assert.equal(wrongType.isError, true);
    assert.match(wrongType.text, /language/);
    const missing = await call(client(), 'write_file', { path: 'a.txt', content: 'x' });
    assert.equal(missing.isError, true);
    assert.match(missing.text, /session_id/);
    const unknown = await call(client(), 'run_code', { language: 'no-such-language', code: 'x' });
    assert.equal(unknown.isError, true);
    assert.match(unknown.text, /RC_ERR_UNKNOWN_LANGUAGE: unsupported language 'no-such-language'/);
    // Limits apply as on every edge: above the server's maximum is refused before anything runs.
    const tooLong = await call(client(), 'run_code', { language: 'python', code: 'print(1)', timeout: 10_000_000 });
    assert.equal(tooLong.isError, true);
    assert.match(tooLong.text, /timeout/);
    const both = await call(client(), 'run_code', { language: 'python', code: 'print(1)', files: [{ name: 'a.py', content: 'print(2)' }] });
    assert.equal(both.isError, true);
    assert.match(both.text, /code: give either code or files/);
    const noSession = await call(client(), 'list_files', { session_id: '00000000-0000-4000-8000-000000000000' });
    assert.equal(noSession.isError, true);
    assert.match(noSession.text, /RC_ERR_NOT_FOUND/);
  });

  it('a session keeps files between calls: write_file, run_in_session, read_file, list_files, close_session', async () => {
    const created = await ok(client(), 'create_session', { language: 'python' });
    const id = created.structured.id as string;
    assert.match(created.text, new RegExp(`session_id: ${id}`));
    await ok(client(), 'write_file', { session_id: id, path: 'src/main.py', content: 'import json\njson.dump({"n": 6 * 7}, open("out/result.json", "w"))\nprint("done")\n' });
    const mkdir = await ok(client(), 'run_in_session', { session_id: id, command: ['mkdir', '-p', 'out'] });
    assert.match(mkdir.text, /^exit code: 0$/m);
    const ran = await ok(client(), 'run_in_session', { session_id: id, command: ['python3', 'src/main.py'] });
    assert.match(ran.text, /--- stdout ---\ndone\n/);
    const code = await ok(client(), 'run_in_session', { session_id: id, code: 'import os\nprint(sorted(os.listdir(".")))' });
    assert.match(code.text, /'out', 'src'\]/);
    assert.equal((await ok(client(), 'read_file', { session_id: id, path: 'out/result.json' })).text, '{"n": 42}');
    const listed = await ok(client(), 'list_files', { session_id: id });
    assert.match(listed.text, /file +\d+ +out\/result\.json/);
    assert.match(listed.text, /file +\d+ +src\/main\.py/);
    const escape = await call(client(), 'read_file', { session_id: id, path: '../../etc/passwd' });
    assert.equal(escape.isError, true);
    assert.match(escape.text, /path/);
    const neither = await call(client(), 'run_in_session', { session_id: id });
    assert.equal(neither.isError, true);
    assert.match(neither.text, /code: give either code or command/);
    await ok(client(), 'close_session', { session_id: id });
    const after = await call(client(), 'run_in_session', { session_id: id, command: ['true'] });
    assert.equal(after.isError, true);
    assert.match(after.text, /RC_ERR_NOT_FOUND/);
  });

  it('run_cell keeps a variable between cells', async () => {
    const created = await ok(client(), 'create_session', { language: 'python' });
    const id = created.structured.id as string;
    try {
      const first = await call(client(), 'run_cell', { session_id: id, code: 'x = 20\nx + 1' });
      assert.equal(first.isError, false, first.text);
      assert.match(first.text, /21/);
      const second = await ok(client(), 'run_cell', { session_id: id, code: 'print(x * 2)\nraise KeyError("k")' });
      assert.match(second.text, /40/);
      assert.match(second.text, /KeyError/);
    } finally {
      await ok(client(), 'close_session', { session_id: id });
    }
  });

  it('a matplotlib PNG saved under outputs/ comes back as image content', async (t) => {
    if (!installed('python-datascience')) return t.skip("the python-datascience image is not built in this RUNNER_CODES_HOME (infra.operator rootfs build --lang python-datascience)");
    const answer = await ok(client(), 'run_code', {
      language: 'python-datascience',
      code: 'import os\nimport matplotlib\nmatplotlib.use("Agg")\nimport matplotlib.pyplot as plt\nos.makedirs("outputs", exist_ok=True)\nplt.plot([1, 2, 3], [1, 4, 9])\nplt.savefig("outputs/plot.png")\nprint("saved")',
      timeout: 30_000,
    });
    assert.match(answer.text, /outputs\/plot\.png \(image\/png, \d+ bytes\)/);
    assert.equal(answer.images.length, 1);
    assert.equal(answer.images[0]!.mimeType, 'image/png');
    assert.equal(Buffer.from(answer.images[0]!.data, 'base64').subarray(0, 8).toString('hex'), PNG_MAGIC);
  });

  it('run_cell shows a matplotlib figure as image content and a DataFrame as text', async (t) => {
    if (!installed('python-datascience')) return t.skip("the python-datascience image is not built in this RUNNER_CODES_HOME (infra.operator rootfs build --lang python-datascience)");
    const id = (await ok(client(), 'create_session', {})).structured.id as string;
    try {
      const frame = await ok(client(), 'run_cell', { session_id: id, code: 'import pandas as pd\ndf = pd.DataFrame({"a": [1, 2], "b": [3, 4]})\ndf', timeout: 60_000 });
      assert.match(frame.text, /a +b\n0 +1 +3\n1 +2 +4/);
      const figure = await ok(client(), 'run_cell', { session_id: id, code: 'import matplotlib.pyplot as plt\nplt.plot(df.a, df.b)\nplt.show()', timeout: 60_000 });
      assert.equal(figure.images.length, 1, figure.text);
      assert.equal(Buffer.from(figure.images[0]!.data, 'base64').subarray(0, 8).toString('hex'), PNG_MAGIC);
    } finally {
      await ok(client(), 'close_session', { session_id: id });
    }
  });
}
