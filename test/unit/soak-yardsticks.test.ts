import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rssGrowth, type SoakSample } from '../../src/bench/soak.js';

const MiB = 1024 * 1024;
const sample = (after: number, rssMiB: number): SoakSample => ({ after, sandbox_processes: 6, cgroups: 2, host_mounts: 21, server_fds: 26, server_rss_bytes: rssMiB * MiB });

describe('the soak\'s RSS yardstick', () => {
  it('takes V8\'s warm-up step for no leak (the 2026-12-02 soak: 74-77 MiB to 5,000, 96-99 MiB from 6,000 on)', () => {
    const rss = [74, 74, 75, 76, 77, 77, 96, 97, 98, 99, 99];
    const samples = [sample(100, 74), ...rss.slice(1).map((mib, i) => sample((i + 1) * 1000, mib))];
    assert.ok(rssGrowth(samples, 10_000) < 0.1, String(rssGrowth(samples, 10_000)));
  });

  it('catches RSS that keeps growing to the end (10 KiB per execution)', () => {
    const samples = [sample(100, 75), ...Array.from({ length: 10 }, (_, i) => sample((i + 1) * 1000, 75 + ((i + 1) * 1000 * 10) / 1024))];
    assert.ok(rssGrowth(samples, 10_000) > 0.1, String(rssGrowth(samples, 10_000)));
  });
});
