import { it } from 'node:test';
import assert from 'node:assert/strict';
import { Value } from 'typebox/value';
import { ErrorCodes, SandboxError } from '../../src/errors.js';
import type { StageReport } from '../../src/protocol/messages.js';
import { ExecutionResultSchema, StageResultSchema } from '../../src/engine/result-schema.js';
import { failedResult, successResult, type ResultContext } from '../../src/engine/result.js';

// The result's one source is its schema (result.ts derives the types from it); this checks the
// builders' real output against it at run time, unknown fields included (every object is closed).

const ctx: ResultContext = { traceId: 't-1', language: 'c', version: '12.2.0', loadMs: 3.456, totalMs: 40.1 };
const report = (name: string, extra: Partial<StageReport> = {}): StageReport => ({
  name,
  exit_code: 0,
  signal: 0,
  timed_out: false,
  stdout_b64: Buffer.from(`${name} out`).toString('base64'),
  stderr_b64: '',
  stdout_truncated: false,
  stderr_truncated: false,
  wall_ms: 12.345,
  cpu_ms: 10,
  max_rss_kb: 2048,
  ...extra,
});

const errorsOf = (value: unknown): string[] => [...Value.Errors(ExecutionResultSchema, value)].map((e) => `${e.instancePath} ${e.message}`);

it('a compiled and run result, a killed one and a failed one match ExecutionResultSchema', () => {
  const results = [
    successResult(ctx, [report('compile'), report('run')], 'utf8', 0),
    successResult(ctx, [report('run', { exit_code: 137, signal: 9 })], 'base64', 1),
    successResult(ctx, [report('compile', { exit_code: 1 })], 'utf8', 0),
    failedResult(ctx, new SandboxError(ErrorCodes.INTERNAL, 'the agent went away')),
  ];
  for (const result of results) assert.deepEqual(errorsOf(result), [], JSON.stringify(result));
  assert.equal(results[0]!.compile?.stdout, 'compile out');
  assert.equal(results[1]!.signal, 'SIGKILL');
  assert.equal(Value.Check(StageResultSchema, results[0]!.compile), true);
});

it('the schema rejects what the type would not allow: a missing field, an unknown one', () => {
  const result = successResult(ctx, [report('run')], 'utf8', 0);
  const { trace_id: _dropped, ...missing } = result;
  assert.notDeepEqual(errorsOf(missing), []);
  assert.notDeepEqual(errorsOf({ ...result, extra: 1 }), []);
});
