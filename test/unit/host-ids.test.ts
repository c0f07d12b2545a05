import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HostIdAllocator } from '../../src/sandbox/host-ids.js';
import { hostUidOf, ownerOf, sandboxName } from '../../src/sandbox/names.js';

describe('sandbox host ids', () => {
  it('hands every live sandbox its own uid and reuses it only after release', () => {
    const ids = new HostIdAllocator({ first: 100_000, count: 4 });
    const taken = [ids.acquire(), ids.acquire(), ids.acquire(), ids.acquire()];
    assert.equal(new Set(taken).size, 4);
    assert.ok(taken.every((id) => id >= 100_000 && id < 100_004));
    assert.throws(() => ids.acquire(), /all 4 sandbox host ids are in use/);
    ids.release(taken[2]!);
    assert.equal(ids.acquire(), taken[2]);
  });

  it('skips ids other engines hold (read from sandbox names)', () => {
    const ids = new HostIdAllocator({ first: 100_000, count: 3 });
    const others = [sandboxName(1, 100_000), sandboxName(2, 100_002)].map(hostUidOf);
    assert.equal(ids.acquire(() => others), 100_001);
  });

  it('refuses a range that includes root or overflows', () => {
    assert.throws(() => new HostIdAllocator({ first: 0, count: 10 }), /non-root/);
    assert.throws(() => new HostIdAllocator({ first: 0xffff_fff0, count: 100 }), /non-root/);
  });

  it('names carry owner and uid, and old names still parse', () => {
    const name = sandboxName(1234, 1_879_048_200);
    assert.match(name, /^rc-1234-u1879048200-[0-9a-f]{12}$/);
    assert.equal(ownerOf(name), 1234);
    assert.equal(hostUidOf(name), 1_879_048_200);
    assert.equal(ownerOf('rc-99-abcdef012345'), 99);
    assert.equal(hostUidOf('rc-99-abcdef012345'), undefined);
  });
});
