import type { ConformanceCase, ImageRecipe, LanguageSpec } from './types.js';

/**
 * The image recipes. Images form a tree rooted at `base` (debootstrap minbase); each child is
 * a layer of Debian packages. Layers share their parent's files on disk through hardlinks.
 */
export const IMAGES: readonly ImageRecipe[] = [
  { id: 'base', packages: [], description: 'Debian bookworm minbase: bash, coreutils, dash' },
  { id: 'python', parent: 'base', packages: ['python3'], description: 'CPython 3 from Debian' },
  { id: 'node', parent: 'base', packages: ['nodejs'], description: 'Node.js from Debian' },
  { id: 'gcc', parent: 'base', packages: ['gcc', 'g++', 'libc6-dev'], description: 'GCC C and C++ toolchain' },
  { id: 'lua', parent: 'base', packages: ['lua5.4'], description: 'Lua 5.4' },
  { id: 'ruby', parent: 'base', packages: ['ruby'], description: 'Ruby (MRI) from Debian' },
  { id: 'perl', parent: 'base', packages: ['perl'], description: 'Perl 5 with its standard library' },
  { id: 'php', parent: 'base', packages: ['php-cli'], description: 'PHP command-line interpreter' },
  { id: 'sqlite', parent: 'base', packages: ['sqlite3'], description: 'SQLite command-line shell' },
  { id: 'tcl', parent: 'base', packages: ['tcl'], description: 'Tcl 8.6 (tclsh)' },
  { id: 'awk', parent: 'base', packages: ['gawk'], description: 'GNU awk' },
  { id: 'go', parent: 'base', packages: ['golang-go'], description: 'Go toolchain from Debian' },
  { id: 'rust', parent: 'gcc', packages: ['rustc'], description: 'Rust compiler from Debian (links with the gcc layer)' },
  { id: 'fortran', parent: 'gcc', packages: ['gfortran'], description: 'GNU Fortran' },
  { id: 'd', parent: 'gcc', packages: ['gdc'], description: 'GNU D compiler with Phobos' },
  { id: 'pascal', parent: 'base', packages: ['fp-compiler', 'fp-units-rtl'], description: 'Free Pascal (compiler and run-time units only, not the 1 GB meta package)' },
  { id: 'ocaml', parent: 'gcc', packages: ['ocaml-nox'], description: 'OCaml native compiler (links with the gcc layer)' },
  { id: 'erlang', parent: 'base', packages: ['erlang-base'], description: 'Erlang/OTP runtime and compiler' },
  { id: 'elixir', parent: 'erlang', packages: ['elixir'], description: 'Elixir on the Erlang layer' },
  { id: 'guile', parent: 'base', packages: ['guile-3.0'], description: 'GNU Guile 3 (Scheme)' },
  { id: 'sbcl', parent: 'base', packages: ['sbcl'], description: 'Steel Bank Common Lisp' },
  { id: 'prolog', parent: 'base', packages: ['swi-prolog-nox'], description: 'SWI-Prolog without X11' },
  { id: 'pypy', parent: 'base', packages: ['pypy3'], description: 'PyPy 3' },
  { id: 'forth', parent: 'base', packages: ['gforth'], description: 'GNU Forth' },
  { id: 'r', parent: 'base', packages: ['r-base-core'], description: 'R (core, no recommended packages)' },
  { id: 'clojure', parent: 'jdk', packages: ['clojure'], description: 'Clojure on the JDK layer' },
  { id: 'groovy', parent: 'jdk', packages: ['groovy'], description: 'Groovy on the JDK layer' },
  { id: 'cobol', parent: 'gcc', packages: ['gnucobol3'], description: 'GnuCOBOL (compiles through gcc)' },
  { id: 'nim', parent: 'gcc', packages: ['nim'], description: 'Nim (compiles through gcc)' },
  { id: 'raku', parent: 'base', packages: ['rakudo'], description: 'Raku (Rakudo on MoarVM)' },
  { id: 'coffeescript', parent: 'node', packages: ['coffeescript'], description: 'CoffeeScript on the node layer' },
  { id: 'ada', parent: 'gcc', packages: ['gnat'], description: 'GNAT Ada compiler' },
  { id: 'mono', parent: 'base', packages: ['mono-mcs'], description: 'Mono C# compiler and runtime' },
  { id: 'ghc', parent: 'gcc', packages: ['ghc'], description: 'Glasgow Haskell Compiler (links with the gcc layer)' },
  { id: 'racket', parent: 'base', packages: ['racket'], description: 'Racket' },
  { id: 'jdk', parent: 'base', packages: ['openjdk-17-jdk-headless'], description: 'OpenJDK 17: the JVM languages\' shared layer' },
];

/** Every conformance program reads `World` and must print exactly this. */
const hello = (code: string): ConformanceCase => ({ code, stdin: 'World', stdout: 'Hello, World!\n5050\n' });

/**
 * The language catalog: data only. The engine turns an entry into a job without any
 * per-language code paths; adding a language means adding a row (and, if needed, an image).
 */
export const LANGUAGES: readonly LanguageSpec[] = [
  {
    id: 'python',
    name: 'Python',
    aliases: ['py', 'python3'],
    image: 'python',
    fileName: 'main.py',
    extensions: ['.py'],
    run: ['python3', '{file}', '{args}'],
    env: { PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1' },
    versionProbe: ['python3', '--version'],
    conformance: hello('name = input()\nprint(f"Hello, {name}!")\nprint(sum(range(1, 101)))\n'),
  },
  {
    id: 'javascript',
    name: 'JavaScript (Node.js)',
    aliases: ['js', 'node', 'nodejs'],
    image: 'node',
    fileName: 'main.js',
    extensions: ['.js', '.mjs', '.cjs'],
    run: ['node', '{file}', '{args}'],
    versionProbe: ['node', '--version'],
    conformance: hello(
      "const line = require('fs').readFileSync(0, 'utf8').split('\\n')[0];\n" +
        'console.log(`Hello, ${line}!`);\n' +
        'let s = 0; for (let i = 1; i <= 100; i++) s += i;\nconsole.log(s);\n',
    ),
  },
  {
    id: 'bash',
    name: 'Bash',
    aliases: ['shell'],
    image: 'base',
    fileName: 'main.sh',
    extensions: ['.sh'],
    run: ['bash', '{file}', '{args}'],
    versionProbe: ['bash', '--version'],
    conformance: hello('read -r name\necho "Hello, $name!"\necho $(( 100 * 101 / 2 ))\n'),
  },
  {
    id: 'c',
    name: 'C (GCC)',
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
    compileError: { code: 'int main(void) { return undefined_symbol; }\n' },
  },
  {
    id: 'cpp',
    name: 'C++ (G++)',
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
    compileError: { code: 'int main() { return not_declared; }\n' },
  },
  {
    id: 'sh',
    name: 'POSIX sh (dash)',
    aliases: ['dash'],
    image: 'base',
    fileName: 'main.sh',
    extensions: ['.sh'],
    run: ['sh', '{file}', '{args}'],
    versionProbe: ['dpkg-query', '-W', '-f', '${Version}', 'dash'],
    conformance: hello('read -r name\necho "Hello, $name!"\necho $(( 100 * 101 / 2 ))\n'),
  },
  {
    id: 'lua',
    name: 'Lua',
    aliases: ['lua5.4'],
    image: 'lua',
    fileName: 'main.lua',
    extensions: ['.lua'],
    run: ['lua5.4', '{file}', '{args}'],
    versionProbe: ['lua5.4', '-v'],
    conformance: hello('local name = io.read("l")\nprint("Hello, " .. name .. "!")\nlocal s = 0\nfor i = 1, 100 do s = s + i end\nprint(s)\n'),
  },
  {
    id: 'ruby',
    name: 'Ruby',
    aliases: ['rb'],
    image: 'ruby',
    fileName: 'main.rb',
    extensions: ['.rb'],
    run: ['ruby', '{file}', '{args}'],
    versionProbe: ['ruby', '--version'],
    conformance: hello('name = STDIN.gets.chomp\nputs "Hello, #{name}!"\nputs (1..100).sum\n'),
  },
  {
    id: 'perl',
    name: 'Perl',
    aliases: ['pl', 'perl5'],
    image: 'perl',
    fileName: 'main.pl',
    extensions: ['.pl', '.pm'],
    run: ['perl', '{file}', '{args}'],
    versionProbe: ['perl', '-e', 'print $^V'],
    conformance: hello('use strict; use warnings;\nmy $name = <STDIN>;\nchomp $name;\nprint "Hello, $name!\\n";\nmy $s = 0;\n$s += $_ for 1 .. 100;\nprint "$s\\n";\n'),
  },
  {
    id: 'php',
    name: 'PHP',
    aliases: [],
    image: 'php',
    fileName: 'main.php',
    extensions: ['.php'],
    run: ['php', '{file}', '{args}'],
    versionProbe: ['php', '--version'],
    conformance: hello('<?php\n$name = trim(fgets(STDIN));\necho "Hello, $name!\\n";\necho array_sum(range(1, 100)), "\\n";\n'),
  },
  {
    id: 'sqlite',
    name: 'SQLite',
    aliases: ['sqlite3', 'sql'],
    image: 'sqlite',
    fileName: 'main.sql',
    extensions: ['.sql'],
    // The program is read as a shell command so that stdin stays free for the program's data.
    run: ['sqlite3', '-batch', ':memory:', '.read {file}'],
    versionProbe: ['sqlite3', '--version'],
    conformance: hello(
      'CREATE TABLE input(line TEXT);\n.import /dev/stdin input\n' +
        "SELECT 'Hello, ' || line || '!' FROM input LIMIT 1;\n" +
        'WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100) SELECT sum(i) FROM n;\n',
    ),
  },
  {
    id: 'tcl',
    name: 'Tcl',
    aliases: ['tclsh'],
    image: 'tcl',
    fileName: 'main.tcl',
    extensions: ['.tcl'],
    run: ['tclsh', '{file}', '{args}'],
    versionProbe: ['sh', '-c', 'echo "puts [info patchlevel]" | tclsh'],
    conformance: hello('gets stdin name\nputs "Hello, $name!"\nset s 0\nfor {set i 1} {$i <= 100} {incr i} { incr s $i }\nputs $s\n'),
  },
  {
    id: 'awk',
    name: 'AWK (GNU awk)',
    aliases: ['gawk'],
    image: 'awk',
    fileName: 'main.awk',
    extensions: ['.awk'],
    run: ['gawk', '-f', '{file}'],
    versionProbe: ['gawk', '--version'],
    conformance: hello('{ print "Hello, " $0 "!" }\nEND { s = 0; for (i = 1; i <= 100; i++) s += i; print s }\n'),
  },
  {
    id: 'go',
    name: 'Go',
    aliases: ['golang'],
    image: 'go',
    fileName: 'main.go',
    extensions: ['.go'],
    compile: ['go', 'build', '-o', 'a.out', '{sources}'],
    run: ['./a.out', '{args}'],
    // A fresh sandbox has an empty build cache; GOPATH mode keeps single files buildable without go.mod.
    env: { GOCACHE: '/tmp/go-cache', GOPATH: '/tmp/go', GO111MODULE: 'off', CGO_ENABLED: '0' },
    limits: { memoryBytes: 512 * 1024 * 1024, pids: 256 },
    versionProbe: ['go', 'version'],
    conformance: hello(
      'package main\n\nimport (\n\t"bufio"\n\t"fmt"\n\t"os"\n\t"strings"\n)\n\n' +
        'func main() {\n\tline, _ := bufio.NewReader(os.Stdin).ReadString(\'\\n\')\n' +
        '\tfmt.Printf("Hello, %s!\\n", strings.TrimRight(line, "\\n"))\n' +
        '\ts := 0\n\tfor i := 1; i <= 100; i++ {\n\t\ts += i\n\t}\n\tfmt.Println(s)\n}\n',
    ),
    compileError: { code: 'package main\n\nfunc main() {\n\tundefinedThing()\n}\n' },
  },
  {
    id: 'rust',
    name: 'Rust',
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
    compileError: { code: 'fn main() {\n    let x: u32 = "nope";\n}\n' },
  },
  {
    id: 'java',
    name: 'Java',
    aliases: [],
    image: 'jdk',
    fileName: 'Main.java',
    // javac insists that a public class lives in a file of its name.
    fileNameFromCode: { pattern: '^\\s*public\\s+(?:final\\s+|abstract\\s+)*class\\s+(\\w+)', name: '$1.java' },
    extensions: ['.java'],
    // Serial GC and C1 only: a short-lived JVM starts faster and stays small.
    compile: ['javac', '-J-XX:+UseSerialGC', '-J-XX:TieredStopAtLevel=1', '-encoding', 'UTF-8', '-d', '.', '{sources}'],
    run: ['java', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-cp', '.', '{stem}', '{args}'],
    limits: { memoryBytes: 1024 * 1024 * 1024, pids: 256, compileTimeoutMs: 60_000 },
    versionProbe: ['java', '-version'],
    conformance: hello(
      'import java.util.Scanner;\n\npublic class Main {\n    public static void main(String[] args) {\n' +
        '        String name = new Scanner(System.in).nextLine();\n' +
        '        System.out.println("Hello, " + name + "!");\n' +
        '        int s = 0;\n        for (int i = 1; i <= 100; i++) s += i;\n        System.out.println(s);\n    }\n}\n',
    ),
    compileError: { code: 'public class Main {\n    public static void main(String[] args) {\n        int x = "nope";\n    }\n}\n' },
  },
  {
    id: 'fortran',
    name: 'Fortran (GNU Fortran)',
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
    compileError: { code: 'program main\n  implicit none\n  x = 1\nend program main\n' },
  },
  {
    id: 'd',
    name: 'D (GDC)',
    aliases: ['gdc', 'dlang'],
    image: 'd',
    fileName: 'main.d',
    extensions: ['.d'],
    compile: ['gdc', '-O2', '-pipe', '-o', 'a.out', '{sources}'],
    run: ['./a.out', '{args}'],
    versionProbe: ['gdc', '--version'],
    conformance: hello(
      'import std.stdio, std.string, std.range, std.algorithm;\n\nvoid main() {\n' +
        '    auto name = readln().chomp();\n    writeln("Hello, ", name, "!");\n' +
        '    writeln(iota(1, 101).sum);\n}\n',
    ),
    compileError: { code: 'void main() {\n    int x = "nope";\n}\n' },
  },
  {
    id: 'pascal',
    name: 'Pascal (Free Pascal)',
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
    compileError: { code: 'program Main;\nbegin\n  undefinedThing := 1;\nend.\n' },
  },
  {
    id: 'ocaml',
    name: 'OCaml',
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
    compileError: { code: 'let () = print_int "nope"\n' },
  },
  {
    id: 'erlang',
    name: 'Erlang',
    aliases: ['erl'],
    image: 'erlang',
    fileName: 'main.erl',
    // erlc wants the module name to match the file name.
    fileNameFromCode: { pattern: '^-module\\((\\w+)\\)', name: '$1.erl' },
    extensions: ['.erl'],
    compile: ['erlc', '{sources}'],
    run: ['erl', '-noshell', '-s', '{stem}', 'main', '-s', 'init', 'stop', '-extra', '{args}'],
    limits: { pids: 256 },
    versionProbe: ['sh', '-c', 'cat /usr/lib/erlang/releases/*/OTP_VERSION'],
    conformance: hello(
      '-module(main).\n-export([main/0]).\n\nmain() ->\n' +
        '    Name = string:trim(io:get_line(""), trailing, "\\n"),\n' +
        '    io:format("Hello, ~s!~n", [Name]),\n' +
        '    io:format("~p~n", [lists:sum(lists:seq(1, 100))]).\n',
    ),
    compileError: { code: '-module(main).\n-export([main/0]).\n\nmain() -> undefined_function().\n' },
  },
  {
    id: 'elixir',
    name: 'Elixir',
    aliases: ['ex', 'exs'],
    image: 'elixir',
    fileName: 'main.exs',
    extensions: ['.exs', '.ex'],
    run: ['elixir', '{file}', '{args}'],
    limits: { pids: 256 },
    versionProbe: ['sh', '-c', 'elixir --version | grep ^Elixir'],
    conformance: hello('name = IO.gets("") |> String.trim_trailing("\\n")\nIO.puts("Hello, #{name}!")\nIO.puts(Enum.sum(1..100))\n'),
  },
  {
    id: 'scheme',
    name: 'Scheme (GNU Guile)',
    aliases: ['guile'],
    image: 'guile',
    fileName: 'main.scm',
    extensions: ['.scm'],
    run: ['guile', '--no-auto-compile', '-s', '{file}', '{args}'],
    versionProbe: ['guile', '--version'],
    conformance: hello(
      '(use-modules (ice-9 rdelim))\n(define name (read-line))\n' +
        '(display (string-append "Hello, " name "!"))\n(newline)\n' +
        '(display (apply + (iota 100 1)))\n(newline)\n',
    ),
  },
  {
    id: 'commonlisp',
    name: 'Common Lisp (SBCL)',
    aliases: ['lisp', 'sbcl', 'cl'],
    image: 'sbcl',
    fileName: 'main.lisp',
    extensions: ['.lisp', '.cl'],
    run: ['sbcl', '--script', '{file}', '{args}'],
    versionProbe: ['sbcl', '--version'],
    conformance: hello('(let ((name (read-line)))\n  (format t "Hello, ~a!~%" name)\n  (format t "~d~%" (loop for i from 1 to 100 sum i)))\n'),
  },
  {
    id: 'prolog',
    name: 'Prolog (SWI-Prolog)',
    aliases: ['swipl', 'swi-prolog'],
    image: 'prolog',
    fileName: 'main.pl',
    extensions: ['.pl', '.pro'],
    run: ['swipl', '{file}', '{args}'],
    versionProbe: ['swipl', '--version'],
    conformance: hello(
      ':- initialization(main, main).\n\nmain :-\n    read_line_to_string(user_input, Name),\n' +
        '    format("Hello, ~w!~n", [Name]),\n    numlist(1, 100, L),\n    sum_list(L, S),\n    format("~w~n", [S]).\n',
    ),
  },
  {
    id: 'pypy',
    name: 'PyPy (Python 3)',
    aliases: ['pypy3'],
    image: 'pypy',
    fileName: 'main.py',
    extensions: ['.py'],
    run: ['pypy3', '{file}', '{args}'],
    env: { PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1' },
    versionProbe: ['sh', '-c', 'pypy3 --version | grep -o "PyPy [0-9.]*"'],
    conformance: hello('name = input()\nprint(f"Hello, {name}!")\nprint(sum(range(1, 101)))\n'),
  },
  {
    id: 'forth',
    name: 'Forth (Gforth)',
    aliases: ['gforth'],
    image: 'forth',
    fileName: 'main.fs',
    extensions: ['.fs', '.fth', '.4th'],
    run: ['gforth', '{file}', '{args}'],
    versionProbe: ['gforth', '--version'],
    conformance: hello(
      'create buf 256 allot\n: main\n  buf 256 stdin read-line throw drop\n' +
        '  ." Hello, " buf swap type ." !" cr\n  0 101 1 do i + loop s>d <# #s #> type cr ;\nmain bye\n',
    ),
  },
  {
    id: 'r',
    name: 'R',
    aliases: ['rscript'],
    image: 'r',
    fileName: 'main.R',
    extensions: ['.R', '.r'],
    run: ['Rscript', '{file}', '{args}'],
    limits: { memoryBytes: 512 * 1024 * 1024 },
    versionProbe: ['Rscript', '--version'],
    conformance: hello(
      'con <- file("stdin")\nname <- readLines(con, n = 1)\nclose(con)\n' +
        'cat("Hello, ", name, "!\\n", sep = "")\ncat(sum(1:100), "\\n", sep = "")\n',
    ),
  },
  {
    id: 'clojure',
    name: 'Clojure',
    aliases: ['clj'],
    image: 'clojure',
    fileName: 'main.clj',
    extensions: ['.clj'],
    run: ['clojure', '{file}', '{args}'],
    limits: { memoryBytes: 1024 * 1024 * 1024, pids: 256, runTimeoutMs: 20_000 },
    versionProbe: ['clojure', '-e', '(print (clojure-version))'],
    conformance: hello('(let [name (read-line)]\n  (println (str "Hello, " name "!"))\n  (println (reduce + (range 1 101))))\n'),
  },
  {
    id: 'groovy',
    name: 'Groovy',
    aliases: [],
    image: 'groovy',
    fileName: 'main.groovy',
    extensions: ['.groovy'],
    run: ['groovy', '{file}', '{args}'],
    // Debian's groovy script looks for the JVM through JAVA_HOME (default-java is not installed).
    env: { JAVA_HOME: '/usr/lib/jvm/java-17-openjdk-amd64' },
    limits: { memoryBytes: 1024 * 1024 * 1024, pids: 256, runTimeoutMs: 20_000 },
    versionProbe: ['env', 'JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64', 'groovy', '--version'],
    conformance: hello('def name = System.in.newReader().readLine()\nprintln "Hello, ${name}!"\nprintln((1..100).sum())\n'),
  },
  {
    id: 'cobol',
    name: 'COBOL (GnuCOBOL)',
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
    compileError: { code: 'IDENTIFICATION DIVISION.\nPROGRAM-ID. MAIN.\nPROCEDURE DIVISION.\n    MOVE UNDEFINED-THING TO NOTHING.\n    STOP RUN.\n' },
  },
  {
    id: 'nim',
    name: 'Nim',
    aliases: [],
    image: 'nim',
    fileName: 'main.nim',
    extensions: ['.nim'],
    compile: ['nim', 'compile', '--hints:off', '--nimcache:/tmp/nimcache', '-o:a.out', '{file}'],
    run: ['./a.out', '{args}'],
    limits: { compileTimeoutMs: 60_000 },
    versionProbe: ['nim', '--version'],
    conformance: hello('let name = stdin.readLine()\necho "Hello, ", name, "!"\nvar s = 0\nfor i in 1..100:\n  s += i\necho s\n'),
    compileError: { code: 'let x: int = "nope"\n' },
  },
  {
    id: 'raku',
    name: 'Raku (Rakudo)',
    aliases: ['perl6', 'rakudo'],
    image: 'raku',
    fileName: 'main.raku',
    extensions: ['.raku', '.p6'],
    run: ['raku', '{file}', '{args}'],
    versionProbe: ['sh', '-c', 'raku --version | grep -o "Rakudo.*v[0-9.]*" | grep -o "v[0-9.]*" | head -1'],
    conformance: hello('my $name = get;\nsay "Hello, $name!";\nsay [+] 1..100;\n'),
  },
  {
    id: 'coffeescript',
    name: 'CoffeeScript',
    aliases: ['coffee'],
    image: 'coffeescript',
    fileName: 'main.coffee',
    extensions: ['.coffee'],
    run: ['coffee', '{file}', '{args}'],
    versionProbe: ['coffee', '--version'],
    conformance: hello("line = require('fs').readFileSync(0, 'utf8').split('\\n')[0]\nconsole.log \"Hello, #{line}!\"\nconsole.log [1..100].reduce (a, b) -> a + b\n"),
  },
  {
    id: 'ada',
    name: 'Ada (GNAT)',
    aliases: ['gnat'],
    image: 'ada',
    fileName: 'main.adb',
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
    compileError: { code: 'procedure Main is\nbegin\n   Undefined_Thing;\nend Main;\n' },
  },
  {
    id: 'csharp',
    name: 'C# (Mono)',
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
    compileError: { code: 'class Program { static void Main() { int x = "nope"; } }\n' },
  },
  {
    id: 'haskell',
    name: 'Haskell (GHC)',
    aliases: ['hs', 'ghc'],
    image: 'ghc',
    fileName: 'Main.hs',
    extensions: ['.hs'],
    compile: ['ghc', '-O0', '-v0', '-o', 'a.out', '{sources}'],
    run: ['./a.out', '{args}'],
    limits: { memoryBytes: 1024 * 1024 * 1024, pids: 256, compileTimeoutMs: 60_000 },
    versionProbe: ['ghc', '--numeric-version'],
    conformance: hello('main :: IO ()\nmain = do\n  name <- getLine\n  putStrLn ("Hello, " ++ name ++ "!")\n  print (sum [1 .. 100 :: Int])\n'),
    compileError: { code: 'main :: IO ()\nmain = putStrLn (1 :: Int)\n' },
  },
  {
    id: 'racket',
    name: 'Racket',
    aliases: ['rkt'],
    image: 'racket',
    fileName: 'main.rkt',
    extensions: ['.rkt'],
    run: ['racket', '{file}', '{args}'],
    limits: { memoryBytes: 512 * 1024 * 1024 },
    versionProbe: ['racket', '--version'],
    conformance: hello('#lang racket/base\n(define name (read-line))\n(printf "Hello, ~a!\\n" name)\n(displayln (for/sum ([i (in-range 1 101)]) i))\n'),
  },
];

/** Languages whose images `infra.operator setup` builds by default. */
export const DEFAULT_LANGUAGES: readonly string[] = ['python', 'javascript', 'bash', 'c', 'cpp'];
