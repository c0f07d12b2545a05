import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { ImageStore } from '../images/store.js';

/** A program the benchmark runs through the service, and its bare equivalent on the host. */
export interface BenchLanguage {
  id: string;
  code: string;
  stdout: string;
  /** The bare equivalent on the host with the image's own build, as argv steps run in `dir`. */
  bare(images: ImageStore, dir: string): string[][];
  /** Files the bare steps need in their own directory (one directory per run, so parallel runs never race). */
  files?: Record<string, string>;
}

const C_HELLO = '#include <stdio.h>\nint main(void) { puts("1"); return 0; }\n';

export const BENCH_LANGUAGES: Record<string, BenchLanguage> = {
  // Debian's python3 on the host is the same build as in the image (3.11.2); never a pyenv shim.
  python: { id: 'python', code: 'print(1)', stdout: '1\n', bare: () => [['/usr/bin/python3', '-c', 'print(1)']] },
  // The host's node is another build, so run the image's own node binary (chroot only changes the
  // root): Node.js from npm, linked as /usr/local/bin/node (the node image in catalog/images.ts).
  javascript: { id: 'javascript', code: 'console.log(1)', stdout: '1\n', bare: (images) => [['chroot', images.rootfs('node'), '/usr/local/bin/node', '-e', 'console.log(1)']] },
  // Ruby and PHP: the host has neither, so their images' own builds (chroot only changes the root).
  ruby: { id: 'ruby', code: 'puts 1', stdout: '1\n', bare: (images) => [['chroot', images.rootfs('ruby'), '/usr/bin/ruby', '-e', 'puts 1']] },
  php: { id: 'php', code: '<?php echo 1, "\\n";', stdout: '1\n', bare: (images) => [['chroot', images.rootfs('php'), '/usr/bin/php', '-r', 'echo 1, "\\n";']] },
  // The host's gcc is the image's build (Debian 12.2.0): compile, then run, like the sandbox does.
  c: {
    id: 'c',
    code: C_HELLO,
    stdout: '1\n',
    files: { 'main.c': C_HELLO },
    bare: (_images, dir) => [
      ['gcc', '-O2', '-pipe', '-std=gnu17', '-o', join(dir, 'a.out'), join(dir, 'main.c'), '-lm'],
      [join(dir, 'a.out')],
    ],
  },
};

/** The environment every bare run gets: as clean as the sandbox's (no host variables such as NODE_OPTIONS). */
const BARE_ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8', HOME: '/tmp' };

/** Runs one step in the clean environment (plus `env`) to its end; rejects unless it exits 0. */
export function runBare(argv: string[], env: Record<string, string> = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'ignore'], env: { ...BARE_ENV, ...env } });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${argv[0]} exited ${code}`))));
  });
}
