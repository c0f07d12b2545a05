import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { ArgvTemplate } from '../languages/types.js';

const run = promisify(execFile);
const VERSION = /(\d+\.\d+(?:\.\d+)?)/;

/**
 * Runs a language's version probe inside a freshly built image: chroot, as the builder, with its
 * own /proc (the JVM's launcher finds its libraries through /proc/self/exe) in a private mount and
 * PID namespace, so nothing is mounted into the image for longer than the probe.
 */
export async function probeVersion(rootfs: string, argv: ArgvTemplate): Promise<string | null> {
  try {
    const { stdout, stderr } = await run(
      'unshare',
      ['--mount', '--propagation', 'private', '--pid', '--fork', `--mount-proc=${rootfs}/proc`, 'chroot', rootfs, '/usr/bin/env', '-i', 'PATH=/usr/local/bin:/usr/bin:/bin', 'LANG=C.UTF-8', ...argv],
      { timeout: 30_000 },
    );
    return VERSION.exec(`${stdout}\n${stderr}`)?.[1] ?? null;
  } catch {
    return null;
  }
}

/** Apparent size of a tree in bytes (`du -sb`). */
export async function treeBytes(dir: string): Promise<number> {
  const { stdout } = await run('du', ['-sb', dir]);
  return Number(stdout.split('\t')[0]);
}
