import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HostIdAllocator, programUidOf } from '../../src/sandbox/host-ids.js';
import { hostUidOf, ownerOf, sandboxName } from '../../src/sandbox/names.js';

describe('sandbox host ids', () => {
  it('hands every live sandbox its own pair of uids and reuses it only after release', () => {
    const range = { first: 100_000, count: 8 };
    const ids = new HostIdAllocator(range);
    const taken = [ids.acquire(), ids.acquire(), ids.acquire(), ids.acquire()];
    const programs = taken.map((id) => programUidOf(range, id));
    assert.equal(new Set([...taken, ...programs]).size, 8, 'no uid serves two sandboxes or both roles');
    assert.ok(taken.every((id) => id >= 100_000 && id < 100_004));
    assert.ok(programs.every((id) => id >= 100_004 && id < 100_008));
    assert.throws(() => ids.acquire(), /all 4 sandbox host ids are in use/);
    ids.release(taken[2]!);
    assert.equal(ids.acquire(), taken[2]);
  });

  it('skips ids other engines hold (read from sandbox names)', () => {
    const ids = new HostIdAllocator({ first: 100_000, count: 6 });
    const others = [sandboxName(1, 100_000), sandboxName(2, 100_002)].map(hostUidOf);
    assert.equal(ids.acquire(() => others), 100_001);
  });

  it('refuses a range that includes root or overflows', () => {
    assert.throws(() => new HostIdAllocator({ first: 0, count: 10 }), /non-root/);
    assert.throws(() => new HostIdAllocator({ first: 100_000, count: 1 }), /at least 2/);
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
