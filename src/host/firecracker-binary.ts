import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, realpath, rename, rm, symlink } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { promisify } from 'node:util';
import { ErrorCodes, InvalidRequestError, RunnerError } from '../errors.js';
import type { VmPaths } from '../images/vm/paths.js';

const run = promisify(execFile);

/** The oldest Firecracker the client is checked against (and that has `vsock_override`). */
export const MIN_FIRECRACKER: readonly [number, number, number] = [1, 16, 1];

/** `firecracker --version` says `Firecracker v1.16.1` (and more lines); `jailer --version`, `Jailer v1.16.1`. */
export function parseFirecrackerVersion(output: string, program: 'Firecracker' | 'Jailer' = 'Firecracker'): [number, number, number] | null {
  const match = new RegExp(`${program} v(\\d+)\\.(\\d+)\\.(\\d+)`).exec(output);
  return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : null;
}

const atLeast = (v: readonly number[], min: readonly number[]): boolean => {
  for (let i = 0; i < min.length; i++) if (v[i] !== min[i]) return v[i]! > min[i]!;
  return true;
};

/** What `setup --vm` can register: the Firecracker binary, and the jailer of the same release. */
const PROGRAMS = {
  firecracker: { flag: '--firecracker', program: 'Firecracker', link: (vm: VmPaths) => vm.firecracker },
  jailer: { flag: '--jailer', program: 'Jailer', link: (vm: VmPaths) => vm.jailer },
} as const;

/** Asks a binary for its version; an error naming `flag` when it is not the program it should be. */
async function versionOf(kind: keyof typeof PROGRAMS, path: string): Promise<[number, number, number]> {
  const { flag, program } = PROGRAMS[kind];
  if (!existsSync(path)) throw new InvalidRequestError(flag, `${path} does not exist`);
  let output: string;
  try {
    const { stdout, stderr } = await run(path, ['--version'], { timeout: 5000 });
    output = `${stdout}\n${stderr}`;
  } catch (err) {
    throw new InvalidRequestError(flag, `${path} --version failed: ${(err as Error).message.split('\n')[0]}`);
  }
  const version = parseFirecrackerVersion(output, program);
  if (!version) throw new InvalidRequestError(flag, `${path} does not say it is ${program} (--version printed '${output.trim().slice(0, 80)}')`);
  if (!atLeast(version, MIN_FIRECRACKER)) {
    throw new InvalidRequestError(flag, `${path} is ${program} v${version.join('.')}; v${MIN_FIRECRACKER.join('.')} or newer is needed`);
  }
  return version;
}

/**
 * Checks a user-provided Firecracker binary (Debian does not ship one) and links it into the data
 * dir for the firecracker backend. Refuses anything that does not say it is Firecracker ≥ 1.16.1.
 */
export async function registerFirecracker(vm: VmPaths, path: string): Promise<string> {
  await versionOf('firecracker', path);
  return link('firecracker', vm, path);
}

/**
 * Checks a jailer against the Firecracker it will run (`firecracker`, registered or given in the
 * same setup): the same release, as Firecracker requires, and a Firecracker whose file name
 * contains `firecracker` (the jailer runs nothing else). Links it into the data dir; from then on
 * the firecracker backend runs jailed.
 */
export async function registerJailer(vm: VmPaths, path: string, firecracker: string | null): Promise<string> {
  const version = await versionOf('jailer', path);
  if (!firecracker) throw new InvalidRequestError('--jailer', 'the jailer needs a Firecracker binary: give --firecracker PATH too');
  const fcVersion = await versionOf('firecracker', firecracker);
  if (fcVersion.join('.') !== version.join('.')) {
    throw new InvalidRequestError('--jailer', `${path} is Jailer v${version.join('.')} but Firecracker is v${fcVersion.join('.')}: use both from the same release`);
  }
  if (!basename(await realpath(firecracker)).includes('firecracker')) {
    throw new InvalidRequestError('--jailer', `the jailer runs only a binary whose file name contains 'firecracker'; ${firecracker} is '${basename(await realpath(firecracker))}'`);
  }
  return link('jailer', vm, path);
}

async function link(kind: keyof typeof PROGRAMS, vm: VmPaths, path: string): Promise<string> {
  const at = PROGRAMS[kind].link(vm);
  const target = await realpath(path);
  await mkdir(dirname(at), { recursive: true });
  const partial = `${at}.partial`;
  try {
    await rm(partial, { force: true });
    await symlink(target, partial);
    await rename(partial, at);
  } catch (err) {
    throw new RunnerError(ErrorCodes.HOST_DEPENDENCY, `cannot link ${target} as ${at}: ${(err as Error).message}`);
  }
  return target;
}
