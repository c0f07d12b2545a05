import type { ImageRecipe, LanguageSpec } from './types.js';

/**
 * The image recipes. Images form a tree rooted at `base` (debootstrap minbase); each child is
 * a layer of Debian packages. Layers share their parent's files on disk through hardlinks.
 */
export const IMAGES: readonly ImageRecipe[] = [
  { id: 'base', packages: [], description: 'Debian bookworm minbase: bash, coreutils, dash' },
  { id: 'python', parent: 'base', packages: ['python3'], description: 'CPython 3 from Debian' },
  { id: 'node', parent: 'base', packages: ['nodejs'], description: 'Node.js from Debian' },
  { id: 'gcc', parent: 'base', packages: ['gcc', 'g++', 'libc6-dev'], description: 'GCC C and C++ toolchain' },
];

const HELLO_STDIN = 'World';
const HELLO_STDOUT = 'Hello, World!\n5050\n';

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
    conformance: {
      code: 'name = input()\nprint(f"Hello, {name}!")\nprint(sum(range(1, 101)))\n',
      stdin: HELLO_STDIN,
      stdout: HELLO_STDOUT,
    },
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
    conformance: {
      code:
        "const line = require('fs').readFileSync(0, 'utf8').split('\\n')[0];\n" +
        'console.log(`Hello, ${line}!`);\n' +
        'let s = 0; for (let i = 1; i <= 100; i++) s += i;\nconsole.log(s);\n',
      stdin: HELLO_STDIN,
      stdout: HELLO_STDOUT,
    },
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
    conformance: {
      code: 'read -r name\necho "Hello, $name!"\necho $(( 100 * 101 / 2 ))\n',
      stdin: HELLO_STDIN,
      stdout: HELLO_STDOUT,
    },
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
    conformance: {
      code:
        '#include <stdio.h>\n#include <string.h>\n' +
        'int main(void) {\n  char name[256] = "";\n  if (!fgets(name, sizeof name, stdin)) return 1;\n' +
        '  name[strcspn(name, "\\n")] = 0;\n  printf("Hello, %s!\\n", name);\n' +
        '  int s = 0; for (int i = 1; i <= 100; i++) s += i;\n  printf("%d\\n", s);\n  return 0;\n}\n',
      stdin: HELLO_STDIN,
      stdout: HELLO_STDOUT,
    },
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
    conformance: {
      code:
        '#include <iostream>\n#include <string>\n' +
        'int main() {\n  std::string name;\n  std::getline(std::cin, name);\n' +
        '  std::cout << "Hello, " << name << "!\\n";\n' +
        '  int s = 0; for (int i = 1; i <= 100; ++i) s += i;\n  std::cout << s << "\\n";\n}\n',
      stdin: HELLO_STDIN,
      stdout: HELLO_STDOUT,
    },
    compileError: { code: 'int main() { return not_declared; }\n' },
  },
];

/** Languages whose images `infra.operator setup` builds by default. */
export const DEFAULT_LANGUAGES: readonly string[] = ['python', 'javascript', 'bash', 'c', 'cpp'];
