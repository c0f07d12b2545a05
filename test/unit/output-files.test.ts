import { it } from 'node:test';
import assert from 'node:assert/strict';
import { collectFor, outputFilesOf } from '../../src/engine/output-files.js';
import { guessMime } from '../../src/engine/mime-types.js';
import type { CollectedFile } from '../../src/protocol/messages.js';

/* The host's checks on what a (possibly lying) agent collected; fails on main: no output files. */

const file = (path: string, content: string, truncated = false): CollectedFile => ({
  path, size: content.length, content_b64: Buffer.from(content).toString('base64'), truncated,
});

it('keeps plain paths under outputs/ within the caps, drops and flags the rest', () => {
  const collect = collectFor({ maxFiles: 3, maxBytes: 10 })!;
  const { files, truncated } = outputFilesOf({
    files: [file('outputs/a.json', '{}'), file('outputs/../etc/passwd', 'x'), file('/etc/shadow', 'x'), file('elsewhere/b', 'x'),
      file('outputs//c', 'x'), file('outputs/./d', 'x'), file('outputs/big.png', 'x'.repeat(20)), file('outputs/e.svg', '<svg/>')],
    truncated: false,
  }, collect);
  assert.deepEqual(files.map((f) => [f.path, f.mime]), [['outputs/a.json', 'application/json'], ['outputs/e.svg', 'image/svg+xml']]);
  assert.equal(truncated, true);
});

it('passes the agent\'s own cut on, and collects nothing with a zero file cap', () => {
  const collect = collectFor({ maxFiles: 64, maxBytes: 100 })!;
  assert.equal(outputFilesOf({ files: [file('outputs/a.txt', 'a', true)], truncated: false }, collect).truncated, true);
  assert.equal(outputFilesOf({ files: [], truncated: true }, collect).truncated, true);
  assert.equal(collectFor({ maxFiles: 0, maxBytes: 100 }), undefined);
  assert.deepEqual(collectFor({ maxFiles: 5000, maxBytes: 1 << 30 }), { dir: 'outputs', max_files: 1024, max_bytes: 16777216 });
});

it('guesses the media type from the extension', () => {
  assert.equal(guessMime('outputs/plot.PNG'), 'image/png');
  assert.equal(guessMime('outputs/data.csv'), 'text/csv');
  assert.equal(guessMime('outputs/.hidden'), 'application/octet-stream');
  assert.equal(guessMime('outputs/noext'), 'application/octet-stream');
  assert.equal(guessMime('outputs/archive.tar.gz'), 'application/gzip');
});
