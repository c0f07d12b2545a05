import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FrameDecoder, encodeFrame } from '../../src/protocol/frame.js';

describe('frames', () => {
  it('round-trips messages split at every byte boundary', () => {
    const bytes = Buffer.concat([encodeFrame({ type: 'ready', n: 1 }, 1000), encodeFrame({ type: 'result', s: 'ü' }, 1000)]);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const decoder = new FrameDecoder(1000);
      const out = [...decoder.push(bytes.subarray(0, cut)), ...decoder.push(bytes.subarray(cut))];
      assert.deepEqual(out, [{ type: 'ready', n: 1 }, { type: 'result', s: 'ü' }]);
      assert.equal(decoder.pendingBytes, 0);
    }
  });

  it('rejects a declared length of 0 or above the maximum before buffering the body', () => {
    assert.throws(() => new FrameDecoder(100).push(Buffer.from([0, 0, 0, 0])), /frame length 0/);
    assert.throws(() => new FrameDecoder(100).push(Buffer.from([0, 0, 0, 101])), /frame length 101 is outside 1..100/);
  });

  it('rejects bodies that are not JSON objects', () => {
    const frame = (text: string): Buffer => Buffer.concat([Buffer.from([0, 0, 0, Buffer.byteLength(text)]), Buffer.from(text)]);
    assert.throws(() => new FrameDecoder(100).push(frame('{nope')), /not valid JSON/);
    assert.throws(() => new FrameDecoder(100).push(frame('[1]')), /not a JSON object/);
  });

  it('refuses to encode a frame above the limit', () => {
    assert.throws(() => encodeFrame({ big: 'x'.repeat(100) }, 50), /frame limit/);
  });
});
