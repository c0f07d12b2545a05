import type { ConformanceCase, NamingCase } from '../types.js';

/** Every conformance program reads `World` and must print exactly this. */
export const hello = (code: string): ConformanceCase => ({ code, stdin: 'World', stdout: 'Hello, World!\n5050\n' });

/** A naming case whose program, like the conformance program, reads `World` and prints the greeting and 5050. */
export const helloAs = (title: string, files: NamingCase['files']): NamingCase => ({ title, files, stdin: 'World', stdout: 'Hello, World!\n5050\n' });

/** Brainfuck that prints `text` from cell 0 (left zeroed): one loop sets the cell near each character. */
function brainfuckPrint(text: string): string {
  let code = '';
  for (const char of Buffer.from(text, 'latin1')) {
    const tens = Math.floor(char / 10);
    code += `++++++++++[>${'+'.repeat(tens)}<-]>${'+'.repeat(char - tens * 10)}.[-]<`;
  }
  return code;
}

/** The conformance program in Brainfuck: "Hello, ", the first input line echoed, "!\n5050\n". */
export function brainfuckHello(): string {
  // Read a character; while it is not a newline (10), print it and read the next.
  const echoLine = ',----------[++++++++++.,----------]';
  return [brainfuckPrint('Hello, '), echoLine, '[-]', brainfuckPrint('!\n5050\n')].join('\n') + '\n';
}

