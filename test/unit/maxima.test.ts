import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { API_OPTIONS, defaultApiConfig, loadApiConfig } from '../../src/api/config.js';
import { engineOptionsFor } from '../../src/api/engine-options.js';
import { AboveMaximumError } from '../../src/engine/above-maximum.js';
import { DEFAULT_MAXIMA, LIMIT_OPTIONS, resolveLimits } from '../../src/engine/limits.js';
import { MAXIMA_OPTIONS } from '../../src/engine/maxima.js';
import { DEFAULT_INPUT_MAXIMA, normalizeRequest } from '../../src/engine/request.js';
import { getLanguage } from '../../src/languages/lookup.js';

const MiB = 1024 * 1024;

describe('one table of limits and maxima for the API and the CLI', () => {
  it('the API offers every maximum of the shared table, under the same names', () => {
    for (const maximum of MAXIMA_OPTIONS) assert.ok(API_OPTIONS.includes(maximum), maximum.flag);
  });

  it('the default API maxima are what they were', () => {
    const { maxima, inputMaxima } = engineOptionsFor({ ...defaultApiConfig(), poolSize: 0 });
    assert.deepEqual(maxima, { ...DEFAULT_MAXIMA, runTimeoutMs: 60_000, compileTimeoutMs: 120_000, memoryBytes: 2048 * MiB, outputBytes: 16 * MiB });
    assert.deepEqual(inputMaxima, { ...DEFAULT_INPUT_MAXIMA, stdinBytes: MiB, filesBytes: 4 * MiB });
  });

  it('every maximum can be raised, pids too', () => {
    const config = loadApiConfig({}, { RUNNER_CODES_MAX_PIDS: '1024', RUNNER_CODES_MAX_TIMEOUT: '200000', RUNNER_CODES_MAX_STDIN: '10' });
    const { maxima, inputMaxima } = engineOptionsFor({ ...config, poolSize: 0 });
    assert.equal(maxima?.pids, 1024);
    assert.equal(maxima?.runTimeoutMs, 200_000);
    assert.equal(maxima?.compileTimeoutMs, 200_000);
    assert.equal(inputMaxima?.stdinBytes, 10);
  });

  it('a value above a maximum says which maximum, and the API message is unchanged', () => {
    const python = getLanguage('python');
    for (const limit of LIMIT_OPTIONS) {
      const err = (() => {
        try {
          resolveLimits(python, { [limit.key]: 2 ** 40 });
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      assert.ok(err instanceof AboveMaximumError, limit.field);
      assert.equal(err.setting, limit.setting);
      assert.equal(err.field, limit.field);
      assert.match(err.message, new RegExp(`^${limit.field}: must be at most \\d+.* \\(server maximum\\)$`));
    }
    assert.throws(
      () => normalizeRequest({ language: 'python', code: 'print(1)', stdin: 'xx' }, python, { ...DEFAULT_INPUT_MAXIMA, stdinBytes: 1 }),
      (err: unknown) => err instanceof AboveMaximumError && err.setting === 'maxStdinBytes' && err.message === 'stdin: is 2 bytes, more than the 1-byte maximum',
    );
  });
});
