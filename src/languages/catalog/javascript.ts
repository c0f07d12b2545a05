import type { LanguageSpec } from '../types.js';
import { hello, helloAs } from './conformance.js';

/** JavaScript runtimes and the languages that compile to JavaScript. */
export const JAVASCRIPT: readonly LanguageSpec[] = [
  {
    id: 'javascript',
    name: 'JavaScript (Node.js)',
    family: 'interpreted',
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
    id: 'typescript',
    name: 'TypeScript',
    family: 'compiled',
    aliases: ['ts'],
    image: 'typescript',
    fileName: 'main.ts',
    extensions: ['.ts', '.mts', '.cts'],
    // The native tsc type-checks (strict, as TypeScript 6+ defaults) and emits JavaScript beside the
    // sources; a type error is a compile error. Node's own type definitions are in the image.
    // Single-threaded: in parallel it reads every file at once, one OS thread per blocked read, and a
    // cold page cache took it past the sandbox's 64 pids (threads count) mid-compile.
    compile: [
      'tsc', '--singleThreaded', '--target', 'es2024', '--module', 'nodenext', '--skipLibCheck', '--pretty', 'false',
      '--typeRoots', '/opt/runner-codes/npm/node_modules/@types', '--types', 'node', '{sources}',
    ],
    run: ['node', '{noext}.js', '{args}'],
    versionProbe: ['tsc', '--version'],
    conformance: hello(
      "import { readFileSync } from 'node:fs';\n\n" +
        "const line: string = readFileSync(0, 'utf8').split('\\n')[0] ?? '';\n" +
        'console.log(`Hello, ${line}!`);\n' +
        'const sum = (n: number): number => (n * (n + 1)) / 2;\nconsole.log(sum(100));\n',
    ),
    namingCases: [helloAs('a file name without the .ts extension', [{ name: 'prog' }])],
    compileError: { code: "const n: number = 'not a number';\nconsole.log(n);\n", message: 'TS2322' },
  },
  {
    id: 'deno',
    name: 'Deno (TypeScript and JavaScript)',
    family: 'interpreted',
    aliases: [],
    image: 'deno',
    fileName: 'main.ts',
    extensions: ['.ts', '.js', '.mts', '.mjs', '.tsx', '.jsx'],
    // Deno's permission system stays closed (no --allow-*): reading stdin needs no permission.
    run: ['deno', 'run', '--quiet', '--no-prompt', '--no-config', '--no-lock', '{file}', '{args}'],
    env: { DENO_DIR: '/tmp/.deno', DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' },
    limits: { memoryBytes: 512 * 1024 * 1024 },
    versionProbe: ['deno', '--version'],
    conformance: hello(
      'const text = new TextDecoder().decode(await new Response(Deno.stdin.readable).arrayBuffer());\n' +
        "console.log(`Hello, ${text.split('\\n')[0]}!`);\n" +
        'let s = 0;\nfor (let i = 1; i <= 100; i++) s += i;\nconsole.log(s);\n',
    ),
  },
  {
    id: 'bun',
    name: 'Bun (TypeScript and JavaScript)',
    family: 'interpreted',
    aliases: [],
    image: 'bun',
    fileName: 'main.ts',
    extensions: ['.ts', '.js', '.mts', '.mjs', '.tsx', '.jsx'],
    run: ['bun', 'run', '--no-install', '{file}', '{args}'],
    env: { BUN_RUNTIME_TRANSPILER_CACHE_PATH: '0', DO_NOT_TRACK: '1', NO_COLOR: '1' },
    limits: { memoryBytes: 512 * 1024 * 1024 },
    versionProbe: ['bun', '--version'],
    conformance: hello(
      'const text = await Bun.stdin.text();\n' +
        "console.log(`Hello, ${text.split('\\n')[0]}!`);\n" +
        'let s = 0;\nfor (let i = 1; i <= 100; i++) s += i;\nconsole.log(s);\n',
    ),
  },
  {
    id: 'coffeescript',
    name: 'CoffeeScript',
    family: 'interpreted',
    aliases: ['coffee'],
    image: 'coffeescript',
    fileName: 'main.coffee',
    extensions: ['.coffee'],
    run: ['coffee', '{file}', '{args}'],
    versionProbe: ['coffee', '--version'],
    conformance: hello("line = require('fs').readFileSync(0, 'utf8').split('\\n')[0]\nconsole.log \"Hello, #{line}!\"\nconsole.log [1..100].reduce (a, b) -> a + b\n"),
  },
];
