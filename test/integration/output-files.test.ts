import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Engine } from '../../src/engine/engine.js';
import { openEngine } from '../../src/compose/open-engine.js';
import { NOTHING_LEFT, leftovers } from '../helpers/host.js';

/*
 * One-shot artifacts (issue 14): the files a program writes under outputs/ come back in the
 * result's outputs[] {path, size, mime, content_b64, truncated}, within the server's caps, flagged
 * when cut; symlinks there are never followed. Real bwrap sandboxes. Fails on main: results have
 * no outputs field and the agent collects nothing.
 */

const engines: Engine[] = [];
async function engineWith(maxFiles: number, maxBytes: number): Promise<Engine> {
  const engine = await openEngine({ backend: 'bwrap', outputFiles: { maxFiles, maxBytes } });
  engines.push(engine);
  return engine;
}

after(async () => {
  for (const engine of engines) await engine.close();
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.deepEqual(leftovers(), NOTHING_LEFT);
});

const PLOT = `
import json, os
os.makedirs("outputs", exist_ok=True)
with open("outputs/plot.svg", "w") as f:
    f.write('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><circle r="4" cx="5" cy="5"/></svg>')
with open("outputs/data.json", "w") as f:
    json.dump({"x": [1, 2, 3]}, f)
with open("not-an-output.txt", "w") as f:
    f.write("stays in the sandbox")
print("drawn")
`;

describe('output files of one-shot executions', () => {
  it('returns the files a python program writes under outputs/, with a guessed mime', async () => {
    const engine = await engineWith(64, 10 * 1024 * 1024);
    const result = await engine.execute({ language: 'python', code: PLOT });
    assert.equal(result.status, 'success', JSON.stringify(result.error));
    assert.equal(result.stdout, 'drawn\n');
    assert.deepEqual(result.outputs.map((o) => [o.path, o.mime, o.truncated]), [
      ['outputs/data.json', 'application/json', false],
      ['outputs/plot.svg', 'image/svg+xml', false],
    ]);
    const [data, plot] = result.outputs;
    assert.deepEqual(JSON.parse(Buffer.from(data!.content_b64, 'base64').toString()), { x: [1, 2, 3] });
    assert.match(Buffer.from(plot!.content_b64, 'base64').toString(), /^<svg .*<\/svg>$/);
    assert.equal(plot!.size, Buffer.from(plot!.content_b64, 'base64').length);
    assert.equal(result.outputs_truncated, false);
    // A program that writes no outputs/ gets an empty list.
    const plain = await engine.execute({ language: 'python', code: 'print(1)' });
    assert.deepEqual([plain.outputs, plain.outputs_truncated], [[], false]);
  });

  it('flags a cut at the file cap and at the byte cap', async () => {
    const fewFiles = await engineWith(1, 10 * 1024 * 1024);
    const one = await fewFiles.execute({ language: 'python', code: PLOT });
    assert.deepEqual(one.outputs.map((o) => o.path), ['outputs/data.json']);
    assert.equal(one.outputs_truncated, true);

    const fewBytes = await engineWith(64, 20);
    const cut = await fewBytes.execute({ language: 'python', code: PLOT });
    assert.equal(cut.outputs_truncated, true);
    const [data, plot] = cut.outputs;
    assert.equal(data!.truncated, false, 'data.json (16 bytes) fits');
    assert.equal(plot!.truncated, true, 'plot.svg is cut at the 4 bytes left');
    assert.equal(Buffer.from(plot!.content_b64, 'base64').length, 4);
    assert.ok(plot!.size > 4, 'size is the file\'s, not the cut content\'s');
  });

  it('never follows a symlink in outputs/ (to /etc/passwd, or a symlinked outputs/ itself)', async () => {
    const engine = await engineWith(64, 10 * 1024 * 1024);
    const linked = await engine.execute({
      language: 'python',
      code: 'import os\nos.makedirs("outputs/sub")\nos.symlink("/etc/passwd", "outputs/passwd")\nos.symlink("/etc", "outputs/sub/etc")\nos.mkfifo("outputs/fifo")\nopen("outputs/ok.txt", "w").write("ok")\n',
    });
    assert.equal(linked.status, 'success', JSON.stringify(linked.error));
    assert.deepEqual(linked.outputs.map((o) => o.path), ['outputs/ok.txt']);
    const whole = await engine.execute({ language: 'python', code: 'import os\nos.symlink("/etc", "outputs")\n' });
    assert.deepEqual(whole.outputs, []);
    assert.ok(!JSON.stringify([linked, whole]).includes(Buffer.from('root:x:0:0').toString('base64').slice(0, 12)));
  });

  it('with --max-output-files 0 collects nothing', async () => {
    const engine = await engineWith(0, 10 * 1024 * 1024);
    const result = await engine.execute({ language: 'python', code: PLOT });
    assert.deepEqual([result.outputs, result.outputs_truncated], [[], false]);
  });
});
