import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readEventStream, type ServerSentEvent } from '../../src/client/event-stream.js';
import { retryAfterSeconds } from '../../src/client/errors.js';
import type { CellResult } from '../../src/client/index.js';
import type { CellResult as KernelCellResult } from '../../src/engine/kernel.js';

/** A body that arrives in exactly these chunks. */
function body(chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
}

async function events(chunks: string[]): Promise<ServerSentEvent[]> {
  const out: ServerSentEvent[] = [];
  for await (const event of readEventStream(body(chunks))) out.push(event);
  return out;
}

describe('reading text/event-stream (client/event-stream.ts)', () => {
  it('reads named events whatever the chunks cut: mid-line, mid-character, between \\r and \\n', async () => {
    const text = 'event: stdout\ndata: {"seq":0,"data":"h\u00e9"}\n\nevent: result\r\ndata: {"ok":true}\r\n\r\n';
    const bytes = new TextEncoder().encode(text);
    const want = [{ event: 'stdout', data: '{"seq":0,"data":"h\u00e9"}' }, { event: 'result', data: '{"ok":true}' }];
    // Every cut point, in bytes (so the two bytes of é are split too).
    for (let cut = 1; cut < bytes.length; cut++) {
      const decoder = new TextDecoder();
      const parts = [decoder.decode(bytes.subarray(0, cut), { stream: true }), decoder.decode(bytes.subarray(cut))];
      assert.deepEqual(await events(parts), want, `cut at ${cut}`);
    }
  });

  it('joins data lines, skips comments, names unnamed events `message`, and drops an event the stream cut off', async () => {
    assert.deepEqual(await events([': keep-alive\n\ndata: a\ndata:b\n\ndata: c\rretry: 5\r\revent: x\ndata: never ended']), [
      { event: 'message', data: 'a\nb' },
      { event: 'message', data: 'c' },
    ]);
  });
});

describe('the client\'s helpers', () => {
  it('reads Retry-After as seconds or an HTTP date', () => {
    assert.equal(retryAfterSeconds('5'), 5);
    assert.equal(retryAfterSeconds(null), undefined);
    assert.equal(retryAfterSeconds('soon'), undefined);
    const later = retryAfterSeconds(new Date(Date.now() + 30_000).toUTCString())!;
    assert.ok(later >= 28 && later <= 31, String(later));
  });

  it('its CellResult (from the run_code schema) is the kernel\'s, field for field', () => {
    // Checked by the compiler: each type must be assignable to the other.
    const same = <A, B>(value: [A] extends [B] ? ([B] extends [A] ? true : false) : false): boolean => value;
    assert.equal(same<CellResult, KernelCellResult>(true), true);
  });
});
