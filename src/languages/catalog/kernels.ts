import type { KernelSpec } from '../types.js';

/**
 * The languages with an interpreter kernel (docs/kernels.md): the program that keeps a session's
 * state between cells. `{program}` is the text of src/images/kernels/<program>.
 */
export const KERNELS: readonly KernelSpec[] = [
  { language: 'python-datascience', program: 'python.py', argv: ['python3', '-u', '-c', '{program}'] },
  { language: 'python', program: 'python.py', argv: ['python3', '-u', '-c', '{program}'] },
  { language: 'javascript', program: 'javascript.js', argv: ['node', '-e', '{program}'] },
];

/** The language of an interpreter session when the caller names none. */
export const DEFAULT_KERNEL_LANGUAGE = 'python-datascience';
