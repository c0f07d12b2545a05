import type { LanguageSpec } from '../types.js';
import { hello, helloAs } from './conformance.js';

/** A regex source matching `word` in any letter case (assemblers don't care, JavaScript's `m` flag does). */
function anyCase(word: string): string {
  return [...word].map((c) => `[${c.toLowerCase()}${c.toUpperCase()}]`).join('');
}

/** A regex source matching `token` as a whole word on a line, before any `;` comment. */
function outsideComment(token: string): string {
  return `^[^;\\n]*(?<![\\w.])${token}`;
}

/** Registers only x86-64 has (rax…r15 and their parts), in any case. */
const X86_64_REGISTERS = `(?:${['rip', 'rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rsp', 'rbp'].map(anyCase).join('|')}|[rR](?:8|9|1[0-5])[dDwWbB]?)`;

/** nasm's build of code for 32-bit Linux. */
const NASM_I386 = ['sh', '-c', 'nasm -f elf32 -o main.o "$1" && ld -m elf_i386 -o a.out main.o', 'nasm', '{file}'] as const;

/** Piston's own nasm test program, as written there (upper-case section names, `int 80h`). */
const NASM_PISTON_OK = [
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

/** The buffers, strings and entry point of both NASM conformance programs (x86-64 and 32-bit). */
const NASM_CONFORMANCE_DATA = [
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
];

/** The conformance program (a line in, `Hello, <line>!` and 5050 out) for 32-bit Linux. */
const NASM_CONFORMANCE_I386 = [
  'BITS 32',
  ...NASM_CONFORMANCE_DATA,
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

/** Languages compiled ahead of time (to native code, or to CIL for C#): a compile stage, then the program. */
export const NATIVE: readonly LanguageSpec[] = [
  {
    id: 'c',
    name: 'C (GCC)',
    family: 'compiled',
    aliases: ['gcc'],
    image: 'gcc',
    fileName: 'main.c',
    extensions: ['.c'],
    compile: ['gcc', '-O2', '-pipe', '-std=gnu17', '-o', 'a.out', '{sources}', '-lm'],
    run: ['./a.out', '{args}'],
    limits: { compileTimeoutMs: 30_000 },
    versionProbe: ['gcc', '--version'],
    conformance: hello(
      '#include <stdio.h>\n#include <string.h>\n' +
        'int main(void) {\n  char name[256] = "";\n  if (!fgets(name, sizeof name, stdin)) return 1;\n' +
        '  name[strcspn(name, "\\n")] = 0;\n  printf("Hello, %s!\\n", name);\n' +
        '  int s = 0; for (int i = 1; i <= 100; i++) s += i;\n  printf("%d\\n", s);\n  return 0;\n}\n',
    ),
    compileError: { code: 'int main(void) { return undefined_symbol; }\n', message: '‘undefined_symbol’ undeclared' },
  },
  {
    id: 'cpp',
    name: 'C++ (G++)',
    family: 'compiled',
    aliases: ['c++', 'g++', 'cxx'],
    image: 'gcc',
    fileName: 'main.cpp',
    extensions: ['.cpp', '.cc', '.cxx'],
    compile: ['g++', '-O2', '-pipe', '-std=c++17', '-o', 'a.out', '{sources}'],
    run: ['./a.out', '{args}'],
    limits: { compileTimeoutMs: 30_000 },
    versionProbe: ['g++', '--version'],
    conformance: hello(
      '#include <iostream>\n#include <string>\n' +
        'int main() {\n  std::string name;\n  std::getline(std::cin, name);\n' +
        '  std::cout << "Hello, " << name << "!\\n";\n' +
        '  int s = 0; for (int i = 1; i <= 100; ++i) s += i;\n  std::cout << s << "\\n";\n}\n',
    ),
    compileError: { code: 'int main() { return not_declared; }\n', message: '‘not_declared’ was not declared' },
  },
  {
    id: 'go',
    name: 'Go',
    family: 'compiled',
    aliases: ['golang'],
    image: 'go',
    fileName: 'main.go',
    extensions: ['.go'],
    compile: ['go', 'build', '-o', 'a.out', '{sources}'],
    run: ['./a.out', '{args}'],
    // A fresh sandbox has an empty build cache: the image has the standard library compiled into
    // GOROOT (src/images/layers/go/setup.sh), found with the same GODEBUG and CGO setting.
    // GOPATH mode keeps single files buildable without go.mod.
    env: { GOCACHE: '/tmp/go-cache', GOPATH: '/tmp/go', GO111MODULE: 'off', CGO_ENABLED: '0', GODEBUG: 'installgoroot=all' },
    limits: { memoryBytes: 512 * 1024 * 1024, pids: 256 },
    versionProbe: ['go', 'version'],
    conformance: hello(
      'package main\n\nimport (\n\t"bufio"\n\t"fmt"\n\t"os"\n\t"strings"\n)\n\n' +
        'func main() {\n\tline, _ := bufio.NewReader(os.Stdin).ReadString(\'\\n\')\n' +
        '\tfmt.Printf("Hello, %s!\\n", strings.TrimRight(line, "\\n"))\n' +
        '\ts := 0\n\tfor i := 1; i <= 100; i++ {\n\t\ts += i\n\t}\n\tfmt.Println(s)\n}\n',
    ),
    compileError: { code: 'package main\n\nfunc main() {\n\tundefinedThing()\n}\n', message: 'undefined: undefinedThing' },
  },
  {
    id: 'rust',
    name: 'Rust',
    family: 'compiled',
    aliases: ['rs'],
    image: 'rust',
    fileName: 'main.rs',
    extensions: ['.rs'],
    compile: ['rustc', '-O', '-o', 'a.out', '{file}'],
    run: ['./a.out', '{args}'],
    limits: { memoryBytes: 512 * 1024 * 1024, pids: 128 },
    versionProbe: ['rustc', '--version'],
    conformance: hello(
      'use std::io::BufRead;\n\nfn main() {\n    let mut line = String::new();\n' +
        '    std::io::stdin().lock().read_line(&mut line).unwrap();\n' +
        '    println!("Hello, {}!", line.trim_end_matches(\'\\n\'));\n' +
        '    let s: u32 = (1..=100).sum();\n    println!("{}", s);\n}\n',
    ),
    compileError: { code: 'fn main() {\n    let x: u32 = "nope";\n}\n', message: 'E0308' },
  },
  {
    id: 'fortran',
    name: 'Fortran (GNU Fortran)',
    family: 'compiled',
    aliases: ['gfortran', 'f90'],
    image: 'fortran',
    fileName: 'main.f90',
    extensions: ['.f90', '.f95', '.f03', '.f08', '.f'],
    compile: ['gfortran', '-O2', '-pipe', '-o', 'a.out', '{sources}'],
    run: ['./a.out', '{args}'],
    versionProbe: ['gfortran', '--version'],
    conformance: hello(
      'program main\n  implicit none\n  character(len=256) :: name\n  integer :: i, s\n' +
        "  read(*, '(A)') name\n  print '(A)', 'Hello, ' // trim(name) // '!'\n" +
        '  s = 0\n  do i = 1, 100\n    s = s + i\n  end do\n' +
        "  print '(I0)', s\nend program main\n",
    ),
    compileError: { code: 'program main\n  implicit none\n  x = 1\nend program main\n', message: 'has no IMPLICIT type' },
  },
  {
    id: 'd',
    name: 'D (GDC)',
    family: 'compiled',
    aliases: ['gdc', 'dlang'],
    image: 'd',
    fileName: 'main.d',
    // Without a `module` declaration gdc names the module after the file, which must be an identifier.
    unitNaming: { identifierStem: true },
    extensions: ['.d'],
    compile: ['gdc', '-O2', '-pipe', '-o', 'a.out', '{sources}'],
    run: ['./a.out', '{args}'],
    versionProbe: ['gdc', '--version'],
    conformance: hello(
      'import std.stdio, std.string, std.range, std.algorithm;\n\nvoid main() {\n' +
        '    auto name = readln().chomp();\n    writeln("Hello, ", name, "!");\n' +
        '    writeln(iota(1, 101).sum);\n}\n',
    ),
    namingCases: [helloAs('no module declaration, in my-prog.d', [{ name: 'my-prog.d' }])],
    compileError: { code: 'void main() {\n    int x = "nope";\n}\n', message: 'cannot implicitly convert' },
  },
  {
    id: 'pascal',
    name: 'Pascal (Free Pascal)',
    family: 'compiled',
    aliases: ['fpc', 'freepascal'],
    image: 'pascal',
    fileName: 'main.pas',
    extensions: ['.pas', '.pp'],
    compile: ['fpc', '-O2', '-v0', '-oa.out', '{file}'],
    run: ['./a.out', '{args}'],
    versionProbe: ['fpc', '-iV'],
    conformance: hello(
      'program Main;\nvar\n  name: string;\n  i, s: integer;\nbegin\n  readln(name);\n' +
        "  writeln('Hello, ', name, '!');\n  s := 0;\n  for i := 1 to 100 do\n    s := s + i;\n  writeln(s);\nend.\n",
    ),
    compileError: { code: 'program Main;\nbegin\n  undefinedThing := 1;\nend.\n', message: 'Identifier not found "undefinedThing"' },
  },
  {
    id: 'ocaml',
    name: 'OCaml',
    family: 'compiled',
    aliases: ['ml'],
    image: 'ocaml',
    fileName: 'main.ml',
    extensions: ['.ml'],
    compile: ['ocamlopt', '-o', 'a.out', '{sources}'],
    run: ['./a.out', '{args}'],
    versionProbe: ['ocamlopt', '-version'],
    conformance: hello(
      'let () =\n  let name = input_line stdin in\n  Printf.printf "Hello, %s!\\n" name;\n' +
        '  let s = ref 0 in\n  for i = 1 to 100 do s := !s + i done;\n  Printf.printf "%d\\n" !s\n',
    ),
    compileError: { code: 'let () = print_int "nope"\n', message: 'This expression has type string' },
  },
  {
    id: 'cobol',
    name: 'COBOL (GnuCOBOL)',
    family: 'compiled',
    aliases: ['cob', 'gnucobol'],
    image: 'cobol',
    fileName: 'main.cob',
    extensions: ['.cob', '.cbl'],
    compile: ['cobc', '-x', '-free', '-o', 'a.out', '{sources}'],
    run: ['./a.out', '{args}'],
    versionProbe: ['cobc', '--version'],
    conformance: hello(
      'IDENTIFICATION DIVISION.\nPROGRAM-ID. MAIN.\nDATA DIVISION.\nWORKING-STORAGE SECTION.\n' +
        '01 NAME PIC X(256).\n01 I PIC 9(3).\n01 S PIC 9(5) VALUE 0.\n01 S-OUT PIC Z(4)9.\n' +
        'PROCEDURE DIVISION.\n    ACCEPT NAME.\n    DISPLAY "Hello, " FUNCTION TRIM(NAME) "!".\n' +
        '    PERFORM VARYING I FROM 1 BY 1 UNTIL I > 100\n        ADD I TO S\n    END-PERFORM.\n' +
        '    MOVE S TO S-OUT.\n    DISPLAY FUNCTION TRIM(S-OUT).\n    STOP RUN.\n',
    ),
    compileError: { code: 'IDENTIFICATION DIVISION.\nPROGRAM-ID. MAIN.\nPROCEDURE DIVISION.\n    MOVE UNDEFINED-THING TO NOTHING.\n    STOP RUN.\n', message: "'UNDEFINED-THING' is not defined" },
  },
  {
    id: 'nim',
    name: 'Nim',
    family: 'compiled',
    aliases: [],
    image: 'nim',
    fileName: 'main.nim',
    // Nim names the module after the file and refuses a stem that is not an identifier (`my-prog`).
    unitNaming: { identifierStem: true },
    extensions: ['.nim'],
    compile: ['nim', 'compile', '--hints:off', '--nimcache:/tmp/nimcache', '-o:a.out', '{file}'],
    run: ['./a.out', '{args}'],
    limits: { compileTimeoutMs: 60_000 },
    versionProbe: ['nim', '--version'],
    conformance: hello('let name = stdin.readLine()\necho "Hello, ", name, "!"\nvar s = 0\nfor i in 1..100:\n  s += i\necho s\n'),
    namingCases: [helloAs('my-prog.nim', [{ name: 'my-prog.nim' }])],
    compileError: { code: 'let x: int = "nope"\n', message: 'type mismatch' },
  },
  {
    id: 'ada',
    name: 'Ada (GNAT)',
    family: 'compiled',
    aliases: ['gnat'],
    image: 'ada',
    fileName: 'main.adb',
    // gnatmake finds each unit in the file GNAT's naming rule gives it (`Main` in main.adb, a package
    // `Foo.Bar` in foo-bar.ads and foo-bar.adb) and refuses a file named otherwise.
    unitNaming: {
      sources: ['^[ \\t]*(?:procedure|function|package(?:\\s+body)?)\\s+([A-Za-z][\\w.]*)'],
      case: 'gnat',
    },
    extensions: ['.adb', '.ads'],
    compile: ['gnatmake', '-q', '-o', 'a.out', '{file}'],
    run: ['./a.out', '{args}'],
    versionProbe: ['gnatmake', '--version'],
    conformance: hello(
      'with Ada.Text_IO; use Ada.Text_IO;\nwith Ada.Integer_Text_IO;\n\nprocedure Main is\n' +
        '   Name : constant String := Get_Line;\n   S : Integer := 0;\nbegin\n' +
        '   Put_Line ("Hello, " & Name & "!");\n   for I in 1 .. 100 loop\n      S := S + I;\n   end loop;\n' +
        '   Ada.Integer_Text_IO.Put (S, Width => 0);\n   New_Line;\nend Main;\n',
    ),
    namingCases: [
      helloAs('procedure Main in test.adb, with a package in files named otherwise', [
        {
          name: 'test.adb',
          content:
            'with Ada.Text_IO; use Ada.Text_IO;\nwith Sums;\n\nprocedure Main is\n   Name : constant String := Get_Line;\nbegin\n' +
            '   Put_Line ("Hello, " & Name & "!");\n   Put_Line (Sums.Image (Sums.Up_To (100)));\nend Main;\n',
        },
        { name: 'lib.ads', content: 'package Sums is\n   function Up_To (N : Natural) return Natural;\n   function Image (N : Natural) return String;\nend Sums;\n' },
        {
          name: 'lib.adb',
          content:
            'package body Sums is\n   function Up_To (N : Natural) return Natural is (N * (N + 1) / 2);\n' +
            '   function Image (N : Natural) return String is\n      S : constant String := Natural\'Image (N);\n' +
            '   begin\n      return S (S\'First + 1 .. S\'Last);\n   end Image;\nend Sums;\n',
        },
      ]),
    ],
    compileError: { code: 'procedure Main is\nbegin\n   Undefined_Thing;\nend Main;\n', message: '"Undefined_Thing" is undefined' },
  },
  {
    id: 'haskell',
    name: 'Haskell (GHC)',
    family: 'compiled',
    aliases: ['hs', 'ghc'],
    image: 'ghc',
    fileName: 'Main.hs',
    extensions: ['.hs'],
    compile: ['ghc', '-O0', '-v0', '-o', 'a.out', '{sources}'],
    run: ['./a.out', '{args}'],
    limits: { memoryBytes: 1024 * 1024 * 1024, pids: 256, compileTimeoutMs: 60_000 },
    versionProbe: ['ghc', '--numeric-version'],
    conformance: hello('main :: IO ()\nmain = do\n  name <- getLine\n  putStrLn ("Hello, " ++ name ++ "!")\n  print (sum [1 .. 100 :: Int])\n'),
    namingCases: [helloAs('a file name without the .hs extension', [{ name: 'prog' }])],
    compileError: { code: 'main :: IO ()\nmain = putStrLn (1 :: Int)\n', message: "Couldn't match type" },
  },
  {
    id: 'csharp',
    name: 'C# (Mono)',
    family: 'compiled',
    aliases: ['cs', 'c#', 'mono'],
    image: 'mono',
    fileName: 'main.cs',
    extensions: ['.cs'],
    compile: ['mcs', '-out:main.exe', '{sources}'],
    run: ['mono', 'main.exe', '{args}'],
    limits: { memoryBytes: 512 * 1024 * 1024, pids: 128 },
    versionProbe: ['mono', '--version'],
    conformance: hello(
      'using System;\n\nclass Program {\n    static void Main() {\n        var name = Console.ReadLine();\n' +
        '        Console.WriteLine("Hello, " + name + "!");\n        int s = 0;\n' +
        '        for (int i = 1; i <= 100; i++) s += i;\n        Console.WriteLine(s);\n    }\n}\n',
    ),
    compileError: { code: 'class Program { static void Main() { int x = "nope"; } }\n', message: 'CS0029' },
  },
  {
    id: 'crystal',
    name: 'Crystal',
    family: 'compiled',
    aliases: ['cr'],
    image: 'crystal',
    fileName: 'main.cr',
    extensions: ['.cr'],
    compile: ['crystal', 'build', '--no-color', '-o', 'a.out', '{file}'],
    run: ['./a.out', '{args}'],
    env: { CRYSTAL_CACHE_DIR: '/tmp/crystal-cache' },
    limits: { memoryBytes: 1024 * 1024 * 1024, pids: 128, compileTimeoutMs: 90_000 },
    versionProbe: ['crystal', '--version'],
    conformance: hello('name = (gets || "").chomp\nputs "Hello, #{name}!"\nputs (1..100).sum\n'),
    compileError: { code: 'x : Int32 = "nope"\nputs x\n', message: 'type must be Int32, not String' },
  },
  {
    id: 'nasm',
    name: 'Assembly (NASM, x86-64 or 32-bit x86 Linux)',
    family: 'compiled',
    aliases: ['asm', 'assembly'],
    image: 'nasm',
    fileName: 'main.asm',
    extensions: ['.asm'],
    // Assemble, then link with ld (entry point _start, no libc). Code written for 32-bit Linux
    // (elf32, i386 syscalls through int 0x80, as Piston's nasm runs it) must be told apart from its
    // source: most of it also assembles as x86-64 and then fails at run time.
    compile: ['sh', '-c', 'nasm -f elf64 -o main.o "$1" && ld -o a.out main.o', 'nasm', '{file}'],
    forms: [
      { name: '32-bit (BITS 32)', matches: `^[ \\t]*\\[?[ \\t]*${anyCase('bits')}[ \\t]+32\\b`, compile: NASM_I386 },
      {
        name: '32-bit (int 0x80 and nothing only x86-64 has)',
        matches: outsideComment(`${anyCase('int')}[ \\t]+(?:0[xX]80|80[hH])\\b`),
        lacks: outsideComment(`(?:${anyCase('bits')}[ \\t]+64|${anyCase('syscall')}|${X86_64_REGISTERS})\\b`),
        compile: NASM_I386,
      },
    ],
    namingCases: [
      { title: 'the conformance program written for 32-bit Linux (BITS 32) in test.asm', files: [{ name: 'test.asm', content: NASM_CONFORMANCE_I386 }], stdin: 'Ada\n', stdout: 'Hello, Ada!\n5050\n' },
      { title: "Piston's own test program (int 80h, no BITS line) in test.asm", files: [{ name: 'test.asm', content: NASM_PISTON_OK }], stdout: 'OK\n' },
    ],
    // 32-bit programs make i386 syscalls: the sandbox's filter admits that ABI for this image only.
    syscallAbis: ['i386'],
    run: ['./a.out', '{args}'],
    versionProbe: ['nasm', '-v'],
    conformance: hello(
      [
        ...NASM_CONFORMANCE_DATA,
        '    xor eax, eax            ; read(0, buf, 256)',
        '    xor edi, edi',
        '    mov rsi, buf',
        '    mov edx, 256',
        '    syscall',
        '    xor ebx, ebx            ; rbx = length of the first line',
        '.find:',
        '    cmp rbx, rax',
        '    jge .found',
        '    cmp byte [buf + rbx], 10',
        '    je .found',
        '    inc rbx',
        '    jmp .find',
        '.found:',
        '    mov rsi, hello',
        '    mov edx, hello_len',
        '    call write',
        '    mov rsi, buf',
        '    mov rdx, rbx',
        '    call write',
        '    mov rsi, bang',
        '    mov edx, 2',
        '    call write',
        '    xor eax, eax            ; sum 1..100',
        '    mov ecx, 100',
        '.sum:',
        '    add eax, ecx',
        '    loop .sum',
        '    mov rdi, num + 15       ; to decimal, backwards, with a newline',
        '    mov byte [rdi], 10',
        '    mov ebx, 10',
        '.digit:',
        '    dec rdi',
        '    xor edx, edx',
        '    div ebx',
        "    add dl, '0'",
        '    mov [rdi], dl',
        '    test eax, eax',
        '    jnz .digit',
        '    mov rsi, rdi',
        '    mov rdx, num + 16',
        '    sub rdx, rdi',
        '    call write',
        '    mov eax, 60             ; exit(0)',
        '    xor edi, edi',
        '    syscall',
        'write:                      ; write(1, rsi, rdx)',
        '    mov eax, 1',
        '    mov edi, 1',
        '    syscall',
        '    ret',
        '',
      ].join('\n'),
    ),
    compileError: { code: 'global _start\n_start:\n    jmp nowhere\n', message: "symbol `nowhere' not defined" },
  },
  {
    id: 'haxe',
    name: 'Haxe (Neko target)',
    family: 'compiled',
    aliases: ['hx'],
    image: 'haxe',
    fileName: 'Main.hx',
    // `--main {stem}` names a module, which haxe looks for in the file of that name: the class declaring
    // main() names the entry (module names start with a capital, so `test.hx` would not do).
    unitNaming: {
      entry: [
        '^[ \\t]*(?:(?:final|private|extern)\\s+)*class\\s+(\\w+)[^{]{0,300}\\{(?:(?!\\bclass\\s)[\\s\\S])*?\\bfunction\\s+main\\s*\\(',
        '^[ \\t]*(?:(?:final|private|extern)\\s+)*class\\s+(\\w+)',
      ],
    },
    extensions: ['.hx'],
    compile: ['haxe', '--main', '{stem}', '--neko', 'main.n'],
    run: ['neko', 'main.n', '{args}'],
    limits: { memoryBytes: 512 * 1024 * 1024 },
    versionProbe: ['haxe', '--version'],
    conformance: hello(
      'class Main {\n    static function main() {\n        var name = Sys.stdin().readLine();\n' +
        "        Sys.println('Hello, $name!');\n        var s = 0;\n        for (i in 1...101) s += i;\n" +
        '        Sys.println(s);\n    }\n}\n',
    ),
    namingCases: [helloAs('class Main in test.hx', [{ name: 'test.hx' }]), helloAs('class Main in my-prog.hx', [{ name: 'my-prog.hx' }])],
    compileError: { code: 'class Main {\n    static function main() {\n        var x:Int = "nope";\n    }\n}\n', message: 'String should be Int' },
  },
];
