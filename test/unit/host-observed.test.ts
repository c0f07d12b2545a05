import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { JOB_SLACK_MS, reconcile, STAGE_SLACK_MS } from '../../src/engine/host-observed.js';
import type { JobMessage, JobStage, StageReport } from '../../src/protocol/messages.js';

const stage = (name: string, timeout_ms: number): JobStage => ({
  name, argv: ['true'], env: [], cwd: '/work', stdin_b64: '', timeout_ms, output_limit: 1024, rlimits: { cpu_s: 1, nofile: 64, fsize_bytes: 0, stack_bytes: 0, core_bytes: 0 },
});
const job: JobMessage = { type: 'job', protocol: 1, workdir: '/work', files: [], stages: [stage('compile', 2000), stage('run', 1000)] };
const report = (name: string, over: Partial<StageReport> = {}): StageReport => ({
  name, exit_code: 0, signal: 0, timed_out: false, stdout_b64: '', stderr_b64: '', stdout_truncated: false, stderr_truncated: false, wall_ms: 10, cpu_ms: 1, max_rss_kb: 100, ...over,
});

describe('host-observed facts against the agent\'s report', () => {
  it('keeps a report that fits the host\'s clock', () => {
    const stages = reconcile(job, [report('compile'), report('run')], 500);
    assert.deepEqual(stages.map((s) => s.timed_out), [false, false]);
  });

  it('marks the last stage timed out (killed) when the job took longer than its stages may', () => {
    const allowed = 2000 + 1000 + 2 * STAGE_SLACK_MS + JOB_SLACK_MS;
    const stages = reconcile(job, [report('compile'), report('run')], allowed + 1);
    assert.deepEqual(stages.map((s) => s.timed_out), [false, true]);
    assert.equal(stages[1]!.signal, 9);
    assert.equal(stages[1]!.exit_code, 137);
    // Only the stages that ran count: a compile that "ran" 4 s with a 2 s timeout timed out.
    assert.equal(reconcile(job, [report('compile', { exit_code: 1 })], 2000 + STAGE_SLACK_MS + JOB_SLACK_MS + 1)[0]!.timed_out, true);
  });

  it('caps every stage\'s wall time at the host\'s', () => {
    assert.equal(reconcile(job, [report('compile', { wall_ms: 99_999 })], 300)[0]!.wall_ms, 300);
  });

  it('refuses stages the job did not have', () => {
    assert.throws(() => reconcile(job, [report('run')], 10), /reported stages \[run\] for a job of \[compile, run\]/);
    assert.throws(() => reconcile(job, [], 10), /reported stages/);
    assert.throws(() => reconcile(job, [report('compile'), report('run'), report('run')], 10), /reported stages/);
  });
});
