import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { transferPrinter } from '../../src/cli/transfer-progress.js';
import type { TransferEvent } from '../../src/images/registry/transfer-events.js';

const digest = `sha256:${'ab'.repeat(32)}` as const;
const events: TransferEvent[] = [
  { kind: 'start', direction: 'pull', ref: '127.0.0.1:5000/rc/lua:1', blobs: 1, bytes: 4_000_000 },
  { kind: 'blob', role: 'layer', digest, size: 4_000_000 },
  { kind: 'bytes', digest, delta: 1_000_000 },
  { kind: 'bytes', digest, delta: 3_000_000 },
  { kind: 'blob-done', digest, size: 4_000_000, outcome: 'downloaded' },
  { kind: 'done', ref: '127.0.0.1:5000/rc/lua:1', manifestDigest: digest, imageDigest: digest },
];

function capture(print: (e: TransferEvent) => void): string {
  const write = process.stderr.write;
  let out = '';
  process.stderr.write = ((chunk: string) => ((out += chunk), true)) as typeof process.stderr.write;
  try {
    for (const e of events) print(e);
  } finally {
    process.stderr.write = write;
  }
  return out;
}

describe('push/pull progress', () => {
  it('draws a bar redrawn in place on a terminal', () => {
    const out = capture(transferPrinter({ tty: true }));
    assert.match(out, /\r\x1b\[2K {3}layer sha256:abababababab \[#+\.+\] 1\.0 MB \/ 4\.0 MB/);
    assert.match(out, /\r\x1b\[2K {3}layer sha256:abababababab \[#+\] 4\.0 MB \/ 4\.0 MB/);
    assert.match(out, /layer sha256:abababababab 4\.0 MB downloaded\n✓ 127\.0\.0\.1:5000\/rc\/lua:1: manifest sha256:/);
  });

  it('prints plain lines without escape codes otherwise, and only the result when quiet', () => {
    const plain = capture(transferPrinter({ tty: false }));
    assert.doesNotMatch(plain, /\x1b|\r/);
    assert.equal(plain.split('\n')[0], '==> pull 127.0.0.1:5000/rc/lua:1: 1 blobs, 4.0 MB');
    assert.match(plain, /\n {3}layer sha256:abababababab 4\.0 MB downloaded\n/);
    assert.match(capture(transferPrinter({ tty: false, quiet: true })), /^✓ [^\n]+\n$/);
  });
});
