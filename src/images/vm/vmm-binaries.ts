import { existsSync } from 'node:fs';
import { which } from '../../config/which.js';
import type { VmPaths } from './paths.js';

/** The Firecracker binary: RUNNER_CODES_FIRECRACKER, else the one setup checked, else `firecracker` on PATH. */
export function firecrackerBinary(vm: VmPaths, env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.RUNNER_CODES_FIRECRACKER) return which(env.RUNNER_CODES_FIRECRACKER);
  if (existsSync(vm.firecracker)) return vm.firecracker;
  return which('firecracker');
}

/** The jailer: RUNNER_CODES_JAILER, else the one setup checked, else `jailer` on PATH. */
export function jailerBinary(vm: VmPaths, env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.RUNNER_CODES_JAILER) return which(env.RUNNER_CODES_JAILER);
  if (existsSync(vm.jailer)) return vm.jailer;
  return which('jailer');
}
