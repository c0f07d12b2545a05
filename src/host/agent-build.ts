import { join } from 'node:path';
import { packageRoot, type DataPaths } from '../config/paths.js';
import { runLogged } from '../images/run-logged.js';

/**
 * Builds the C programs (agent/Makefile: runner-agent, runner-launch, runner-seccomp, runner-vminit,
 * runner-reaper) into the data dir (make is incremental, so a second run is quick), then compiles
 * the seccomp policy to BPF: once for x86_64 alone, once also admitting i386 (for the languages
 * whose catalog entry asks for it).
 */
export async function buildAgent(paths: DataPaths, onLine: (line: string) => void): Promise<void> {
  await runLogged(['make', '-C', join(packageRoot, 'agent'), `OUT=${paths.binDir}`, 'all'], onLine);
  await runLogged([paths.seccompCompiler, paths.seccompFilter], onLine);
  await runLogged([paths.seccompCompiler, '--with-i386', paths.seccompFilterI386], onLine);
}
