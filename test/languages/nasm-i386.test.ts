import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { getLanguage } from '../../src/languages/lookup.js';
import { engine, run } from '../helpers/engine.js';
import { skipUnlessBuilt } from '../helpers/images.js';

/**
 * NASM programs written for 32-bit Linux (int 0x80), as Piston's nasm runs them: assembled as
 * elf32, linked with `ld -m elf_i386`, run under the seccomp filter that also admits the i386 ABI
 * (only the nasm image gets it). The 64-bit conformance program stays 64-bit.
 */

/** Piston's own nasm test program, as written there (upper-case section names, `int 80h`). */
const PISTON_OK = [
  'SECTION .DATA',
  '    good:\tdb \'OK\',10',
  '    txtlen:\tequ $-good',
  '',
  'SECTION .TEXT',
  '    GLOBAL _start',
  '',
  '_start:',
  '    mov eax,4',
  '    mov ebx,1',
  '    mov ecx,good',
  '    mov edx,txtlen',
  '    int 80h',
  '    mov eax,1',
  '    mov ebx,0',
  '    int 80h',
  '',
].join('\n');

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

/** The conformance program (a line in, `Hello, <line>!` and 5050 out) for 32-bit Linux. */
const CONFORMANCE_32 = [
  'BITS 32',
  'section .bss',
  'buf: resb 256',
  'num: resb 16',
  'section .data',
  'hello: db "Hello, "',
  'hello_len: equ $ - hello',
  'bang: db "!", 10',
  'section .text',
  'global _start',
  '_start:',
  '    mov eax, 3              ; read(0, buf, 256)',
  '    xor ebx, ebx',
  '    mov ecx, buf',
  '    mov edx, 256',
  '    int 0x80',
  '    xor esi, esi            ; esi = length of the first line',
  '.find:',
  '    cmp esi, eax',
  '    jge .found',
  '    cmp byte [buf + esi], 10',
  '    je .found',
  '    inc esi',
  '    jmp .find',
  '.found:',
  '    push dword hello_len    ; 32-bit pushes: not encodable in 64-bit mode',
  '    push dword hello',
  '    call write',
  '    push esi',
  '    push dword buf',
  '    call write',
  '    push dword 2',
  '    push dword bang',
  '    call write',
  '    xor eax, eax            ; sum 1..100',
  '    mov ecx, 100',
  '.sum:',
  '    add eax, ecx',
  '    loop .sum',
  '    mov edi, num + 15       ; to decimal, backwards, with a newline',
  '    mov byte [edi], 10',
  '    mov ebx, 10',
  '.digit:',
  '    dec edi',
  '    xor edx, edx',
  '    div ebx',
  "    add dl, '0'",
  '    mov [edi], dl',
  '    test eax, eax',
  '    jnz .digit',
  '    mov edx, num + 16',
  '    sub edx, edi',
  '    push edx',
  '    push edi',
  '    call write',
  '    mov eax, 1              ; exit(0)',
  '    xor ebx, ebx',
  '    int 0x80',
  'write:                      ; write(1, [esp+4], [esp+8]), pops its arguments',
  '    mov eax, 4',
  '    mov ebx, 1',
  '    mov ecx, [esp + 4]',
  '    mov edx, [esp + 8]',
  '    int 0x80',
  '    ret 8',
  '',
].join('\n');

describe('nasm: 32-bit programs (int 0x80)', async () => {
  const skip = skipUnlessBuilt(await engine(), 'nasm');

  it("runs Piston's own nasm test program", { skip }, async () => {
    const result = await run({ language: 'nasm', code: PISTON_OK });
    assert.equal(result.compile?.exit_code, 0, result.compile?.stderr);
    assert.equal(result.stdout, 'OK\n', result.stderr);
    assert.equal(result.exit_code, 0);
    assert.equal(result.signal, null);
  });

  it('echoes stdin through a stack buffer and exits with argc', { skip }, async () => {
    const stdin = 'line one\nzwei ✓\n'.repeat(500);
    const result = await run({ language: 'nasm', code: ECHO, stdin, args: ['a', 'b'] });
    assert.equal(result.stdout, stdin, result.stderr);
    assert.equal(result.exit_code, 3);
  });

  it('runs the conformance program written for 32-bit Linux', { skip }, async () => {
    const result = await run({ language: 'nasm', code: CONFORMANCE_32, stdin: 'Ada\n' });
    assert.equal(result.stdout, 'Hello, Ada!\n5050\n', result.stderr + (result.compile?.stdout ?? '') + (result.compile?.stderr ?? ''));
    assert.equal(result.exit_code, 0);
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
