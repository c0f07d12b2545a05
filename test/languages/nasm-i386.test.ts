import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { getLanguage } from '../../src/languages/lookup.js';
import { programForm } from '../../src/languages/unit-names.js';
import { engine, run } from '../helpers/engine.js';
import { skipUnlessBuilt } from '../helpers/images.js';

/**
 * NASM programs written for 32-bit Linux (int 0x80), as Piston's nasm runs them: assembled as
 * elf32, linked with `ld -m elf_i386`, run under the seccomp filter that also admits the i386 ABI
 * (only the nasm image gets it). The 64-bit conformance program stays 64-bit. Piston's own test
 * program and a 32-bit conformance program are naming cases in the catalog (the matrix runs them).
 */

/** Echoes stdin through a buffer on the stack: a 64-bit build would pass a truncated stack pointer. */
const ECHO = [
  'section .text',
  'global _start',
  '_start:',
  '    sub esp, 4096',
  '.loop:',
  '    mov eax, 3              ; read(0, esp, 4096)',
  '    xor ebx, ebx',
  '    mov ecx, esp',
  '    mov edx, 4096',
  '    int 0x80',
  '    test eax, eax',
  '    jle .done',
  '    mov edx, eax            ; write(1, esp, n)',
  '    mov eax, 4',
  '    mov ebx, 1',
  '    mov ecx, esp',
  '    int 0x80',
  '    jmp .loop',
  '.done:',
  '    mov eax, 1              ; exit(argc): argc is the first word of the initial stack',
  '    mov ebx, [esp + 4096]',
  '    int 0x80',
  '',
].join('\n');


describe('nasm: which sources are 32-bit code', () => {
  const nasm = getLanguage('nasm');
  const is32 = (source: string): boolean => programForm(nasm, source).compile !== nasm.compile;
  it('takes BITS 32, or int 0x80 with nothing only x86-64 has, in any case', () => {
    assert.ok(is32('BITS 32\nmov eax, 1\n'));
    assert.ok(is32('  [bits 32]\n'));
    assert.ok(is32('mov eax,4\nINT 80H\n'));
    assert.ok(is32('_start: int 0x80 ; exit\n'));
  });
  it('keeps x86-64 code, and ignores what comments and longer words say', () => {
    assert.ok(!is32(nasm.conformance.code));
    assert.ok(!is32('mov rax, 60\nint 0x80\n'), '64-bit register');
    assert.ok(!is32('BITS 64\nint 0x80\n'));
    assert.ok(!is32('mov eax, 60\nsyscall ; not int 0x80\n'));
    assert.ok(!is32('; BITS 32\nmov eax, 60\nsyscall\n'));
    assert.ok(!is32('mov eax, 1 ; int 0x80 would be 32-bit\n'));
    assert.ok(!is32('print_int 0x80\n'), 'a macro whose name ends in int');
  });
});

describe('nasm: 32-bit programs (int 0x80)', async () => {
  const skip = skipUnlessBuilt(await engine(), 'nasm');

  it('echoes stdin through a stack buffer and exits with argc', { skip }, async () => {
    const stdin = 'line one\nzwei ✓\n'.repeat(500);
    const result = await run({ language: 'nasm', code: ECHO, stdin, args: ['a', 'b'] });
    assert.equal(result.stdout, stdin, result.stderr);
    assert.equal(result.exit_code, 3);
  });

  it('keeps the 64-bit conformance program 64-bit', { skip }, async () => {
    const nasm = getLanguage('nasm');
    const result = await run({ language: 'nasm', code: nasm.conformance.code, stdin: nasm.conformance.stdin });
    assert.equal(result.stdout, nasm.conformance.stdout, result.stderr);
  });

  it('other languages still may not make i386 syscalls', async () => {
    const result = await run({
      language: 'c',
      code: '#include <stdio.h>\nint main(void) { long r; puts("before"); fflush(stdout);\n  __asm__ volatile("int $0x80" : "=a"(r) : "a"(20L) : "memory");\n  printf("after %ld\\n", r); return 0; }\n',
    });
    assert.equal(result.signal, 'SIGSYS');
    assert.equal(result.stdout, 'before\n');
  });
});
