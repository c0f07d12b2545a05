import type { PrestartSpec } from '../types.js';

/**
 * The languages whose pooled sandboxes hold a pre-started interpreter (docs/prestart.md). A request
 * runs in it only when its run stage has the process-level settings the interpreter started with
 * (argv[0], environment, working directory, rlimits): anything else starts cold, as before.
 */
export const PRESTARTS: readonly PrestartSpec[] = [
  { language: 'python', program: 'python.py', argv: ['python3', '-c', '{program}'] },
  // Node's preload runs before Node resolves its entry, so the program runs on Node's own path to
  // main (stack traces and all); the entry it starts for is the default one (main.js).
  { language: 'javascript', program: 'javascript.js', argv: ['node', '-r', '{boot}', '/work/main.js'], boot: '/tmp/.runner-prestart/boot.cjs' },
  // RubyGems and the default gems load before the -e program: most of a Ruby hello world.
  { language: 'ruby', program: 'ruby.rb', argv: ['ruby', '-e', '{program}'] },
  // The CLI's start-up (its php.ini, the extensions of conf.d) is most of a PHP hello world.
  { language: 'php', program: 'php.php', argv: ['php', '-r', '{program}'] },
];
