import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hasUnsafeChars } from '../../src/safe-text.js';
import { securityServer } from '../helpers/hostile.js';

/**
 * Output floods: both streams, one huge line, no newline, binary, invalid UTF-8 and terminal
 * escape sequences. Verdicts from the host: the raw HTTP reply (its size, that it is valid JSON,
 * that no raw control byte is in it), the server's memory, and its logs.
 */

const MiB = 1024 * 1024;

/** POSTs and returns the raw reply bytes as well as the parsed body. */
async function raw(base: string, body: unknown): Promise<{ bytes: Buffer; json: any }> {
  const res = await fetch(`${base}/api/v1/execute`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal(res.status, 200);
  const bytes = Buffer.from(await res.arrayBuffer());
  return { bytes, json: JSON.parse(bytes.toString('utf8')) };
}

describe('output floods', async () => {
  const server = await securityServer();

  const floods: [string, string, string][] = [
    ['python', 'stdout and stderr, 100 MB each', 'import sys, threading\nc = "x" * 65536\nt = threading.Thread(target=lambda: [sys.stderr.write(c) for _ in range(1600)])\nt.start()\nfor _ in range(1600): sys.stdout.write(c)\nt.join()\n'],
    ['c', 'one 200 MB line without a newline', '#include <stdio.h>\n#include <string.h>\nint main(void) { static char b[1 << 16]; memset(b, 120, sizeof b); for (int i = 0; i < 3200; i++) fwrite(b, 1, sizeof b, stdout); return 0; }\n'],
    ['bash', 'binary from /dev/urandom on both streams', 'head -c 50M /dev/urandom; head -c 50M /dev/urandom >&2'],
    ['javascript', 'invalid UTF-8 and escape sequences, forever', 'const b = Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0x1b, 0x5b, 0x32, 0x4a, 0x9b, 0x07, 0x00]);\nconst chunk = Buffer.concat(Array(6000).fill(b));\nfor (;;) { require("fs").writeSync(1, chunk); require("fs").writeSync(2, chunk); }\n'],
  ];

  for (const [language, what, code] of floods) {
    it(`${language}: ${what} is capped, flagged and returned as clean JSON; the server's memory stays bounded`, async () => {
      const rssBefore = process.memoryUsage().rss;
      const { bytes, json } = await raw(server.base, { language, code, timeout: 5000, output_limit: MiB });
      assert.ok(json.truncated.stdout || json.truncated.stderr, 'flagged as truncated');
      assert.ok(Buffer.byteLength(json.stdout) <= 3 * MiB && Buffer.byteLength(json.stderr) <= 3 * MiB, 'capped (UTF-8 replacement can triple invalid bytes)');
      assert.ok(bytes.length < 16 * MiB, `reply of ${bytes.length} bytes`);
      // JSON escapes C0 controls; no raw ESC, BEL or NUL byte reaches a client that prints the reply.
      assert.ok(!bytes.includes(0x1b) && !bytes.includes(0x07) && !bytes.includes(0x00), 'a raw control byte in the reply');
      const grown = process.memoryUsage().rss - rssBefore;
      assert.ok(grown < 96 * MiB, `server RSS grew by ${grown} bytes`);
    });
  }

  it('bash: base64 output returns the exact bytes, capped', async () => {
    const { json } = await raw(server.base, { language: 'bash', code: 'printf "\\xff\\x00\\x1b[2J"; head -c 3M /dev/zero', output_encoding: 'base64', output_limit: 1000 });
    const out = Buffer.from(json.stdout, 'base64');
    assert.equal(out.length, 1000);
    assert.deepEqual([...out.subarray(0, 6)], [0xff, 0x00, 0x1b, 0x5b, 0x32, 0x4a]);
    assert.equal(json.truncated.stdout, true);
  });

  it('program output never reaches the server log', async () => {
    await server.attack({ language: 'bash', code: 'printf "\\x1b]0;pwned\\x07\\n{\\"level\\":60,\\"msg\\":\\"forged\\"}\\n" | tee /dev/stderr' });
    assert.ok(!server.logs.some((line) => line.includes('forged') || line.includes('pwned')));
    for (const line of server.logs) assert.ok(!hasUnsafeChars(JSON.parse(line).msg ?? ''));
  });
});
