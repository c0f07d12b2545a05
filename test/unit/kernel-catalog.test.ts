import { it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { KERNELS_DIR, kernelArgv, kernelLanguages } from '../../src/engine/kernel-program.js';
import { DEFAULT_KERNEL_LANGUAGE, KERNELS } from '../../src/languages/catalog.js';
import { findLanguage } from '../../src/languages/lookup.js';

/** Linux's MAX_ARG_STRLEN: the largest single argv string execve accepts. */
const MAX_ARG_STRLEN = 128 * 1024;

it('every kernel names a catalog language, a program that exists and an argv that carries it', () => {
  for (const kernel of KERNELS) {
    assert.equal(findLanguage(kernel.language)?.id, kernel.language, `${kernel.language} is a language id`);
    assert.ok(existsSync(join(KERNELS_DIR, kernel.program)), kernel.program);
    assert.equal(kernel.argv.filter((part) => part === '{program}').length, 1, `${kernel.language}: argv has {program} once`);
  }
  assert.equal(new Set(kernelLanguages()).size, KERNELS.length, 'one kernel per language');
  assert.ok(kernelLanguages().includes(DEFAULT_KERNEL_LANGUAGE));
  assert.ok(['python', 'javascript'].every((id) => kernelLanguages().includes(id)));
});

it('a kernel program fits in one argv string, with room to grow', () => {
  for (const language of kernelLanguages()) {
    const longest = Math.max(...kernelArgv(language).map((part) => Buffer.byteLength(part)));
    assert.ok(longest < MAX_ARG_STRLEN / 2, `${language}: ${longest} bytes`);
  }
});

it('a language without a kernel is refused naming the ones that have one', () => {
  assert.throws(() => kernelArgv('c'), /language 'c' has no interpreter kernel/);
});
