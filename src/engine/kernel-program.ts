import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../config/paths.js';
import { ErrorCodes, RunnerError } from '../errors.js';
import { KERNELS } from '../languages/catalog.js';
import type { KernelSpec } from '../languages/types.js';

/** Where the kernel programs live in the package (src/images/kernels/). */
export const KERNELS_DIR = join(packageRoot, 'src', 'images', 'kernels');

const programs = new Map<string, string>();

/** Languages with an interpreter kernel: 'python', 'javascript', the data-science id, … */
export function kernelLanguages(): readonly string[] {
  return KERNELS.map((kernel) => kernel.language);
}

export function kernelSpec(language: string): KernelSpec {
  const spec = KERNELS.find((kernel) => kernel.language === language);
  if (!spec) {
    throw new RunnerError(ErrorCodes.INVALID_REQUEST, `language '${language}' has no interpreter kernel`, {
      hint: `interpreter cells run in: ${kernelLanguages().join(', ')}`,
    });
  }
  return spec;
}

/**
 * The argv that starts a language's kernel, the program's text inline (`python3 -c TEXT`).
 * The kernel is never a file in the sandbox: the same argv works on every backend with the language's
 * image unchanged (no rebuild when a kernel changes), and nothing in the work directory or on the
 * image can be mistaken for it or changed under it. Its text is at most a few tens of KiB, well
 * below Linux's 128 KiB per argument.
 */
export function kernelArgv(language: string): string[] {
  const spec = kernelSpec(language);
  let program = programs.get(spec.program);
  if (program === undefined) {
    program = readFileSync(join(KERNELS_DIR, spec.program), 'utf8');
    programs.set(spec.program, program);
  }
  return spec.argv.map((part) => (part === '{program}' ? program! : part));
}
