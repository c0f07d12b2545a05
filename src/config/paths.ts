import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where Runner Codes keeps what it builds: the agent binaries, the seccomp filter, the images.
 * `RUNNER_CODES_HOME` overrides; root defaults to /var/lib/runner-codes, others to ~/.local/share.
 */
export function dataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.RUNNER_CODES_HOME) return env.RUNNER_CODES_HOME;
  if (process.getuid?.() === 0) return '/var/lib/runner-codes';
  return join(env.HOME ?? '/tmp', '.local', 'share', 'runner-codes');
}

export interface DataPaths {
  root: string;
  binDir: string;
  agent: string;
  launcher: string;
  seccompCompiler: string;
  /** PID 1 of a microVM guest (goes into the initramfs). */
  vmInit: string;
  /** Holds a jailed Firecracker once its jailer has exited (agent/src/reaper.c). */
  reaper: string;
  /** Starts sandboxes for a server's engine without forking it (agent/src/forkserver.c). */
  forkServer: string;
  seccompFilter: string;
  /** The same policy, also admitting the i386 ABI (`int 0x80`), for languages that declare it. */
  seccompFilterI386: string;
  imagesDir: string;
}

export function dataPaths(root: string = dataDir()): DataPaths {
  const binDir = join(root, 'bin');
  return {
    root,
    binDir,
    agent: join(binDir, 'runner-agent'),
    launcher: join(binDir, 'runner-launch'),
    seccompCompiler: join(binDir, 'runner-seccomp'),
    vmInit: join(binDir, 'runner-vminit'),
    reaper: join(binDir, 'runner-reaper'),
    forkServer: join(binDir, 'runner-forkserver'),
    seccompFilter: join(root, 'seccomp.bpf'),
    seccompFilterI386: join(root, 'seccomp-i386.bpf'),
    imagesDir: join(root, 'images'),
  };
}

/** The package's own root (holds agent/ and src/images/scripts/), from the compiled file's location. */
export const packageRoot: string = fileURLToPath(new URL('../../../', import.meta.url));
