import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, realpath, rename, symlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { ErrorCodes, InvalidRequestError, RunnerError } from '../errors.js';
import type { VmPaths } from '../images/vm/paths.js';
import { which } from './dependencies.js';

const run = promisify(execFile);

/** The oldest Firecracker the client is checked against (and that has `vsock_override`). */
export const MIN_FIRECRACKER: readonly [number, number, number] = [1, 16, 1];

/** `firecracker --version` says `Firecracker v1.16.1` (and more lines). */
export function parseFirecrackerVersion(output: string): [number, number, number] | null {
  const match = /Firecracker v(\d+)\.(\d+)\.(\d+)/.exec(output);
  return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : null;
}

const atLeast = (v: readonly number[], min: readonly number[]): boolean => {
  for (let i = 0; i < min.length; i++) if (v[i] !== min[i]) return v[i]! > min[i]!;
  return true;
};

/**
 * Checks a user-provided Firecracker binary (Debian does not ship one) and links it into the data
 * dir for the firecracker backend. Refuses anything that does not say it is Firecracker ≥ 1.16.1.
 */
export async function registerFirecracker(vm: VmPaths, path: string): Promise<string> {
  if (!existsSync(path)) throw new InvalidRequestError('--firecracker', `${path} does not exist`);
  let output: string;
  try {
    const { stdout, stderr } = await run(path, ['--version'], { timeout: 5000 });
    output = `${stdout}\n${stderr}`;
  } catch (err) {
    throw new InvalidRequestError('--firecracker', `${path} --version failed: ${(err as Error).message.split('\n')[0]}`);
  }
  const version = parseFirecrackerVersion(output);
  if (!version) throw new InvalidRequestError('--firecracker', `${path} does not say it is Firecracker (--version printed '${output.trim().slice(0, 80)}')`);
  if (!atLeast(version, MIN_FIRECRACKER)) {
    throw new InvalidRequestError('--firecracker', `${path} is Firecracker v${version.join('.')}; v${MIN_FIRECRACKER.join('.')} or newer is needed`);
  }
  const target = await realpath(path);
  await mkdir(dirname(vm.firecracker), { recursive: true });
  const partial = `${vm.firecracker}.partial`;
  try {
    await symlink(target, partial);
    await rename(partial, vm.firecracker);
  } catch (err) {
    throw new RunnerError(ErrorCodes.HOST_DEPENDENCY, `cannot link ${target} as ${vm.firecracker}: ${(err as Error).message}`);
  }
  return target;
}

/** The Firecracker binary: RUNNER_CODES_FIRECRACKER, else the one setup checked, else `firecracker` on PATH. */
export function firecrackerBinary(vm: VmPaths, env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.RUNNER_CODES_FIRECRACKER) return which(env.RUNNER_CODES_FIRECRACKER);
  if (existsSync(vm.firecracker)) return vm.firecracker;
  return which('firecracker');
}
