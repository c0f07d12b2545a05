import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../config/paths.js';
import { runLogged } from '../run-logged.js';
import { installKernel, readKernelManifest, type KernelManifest } from './kernel.js';
import type { VmPaths } from './paths.js';

/** Debian's kernel source; its tarball is /usr/src/<package>.tar.xz. */
export const KERNEL_SOURCE_PACKAGE = 'linux-source-6.1';

/**
 * Firecracker's own CI guest configuration for 6.1 (kernel-config/NOTICE): virtio-mmio, -blk,
 * -console and vsock built in, no modules, no PCI drivers to probe — what both VMMs here need.
 */
export const MICROVM_KERNEL_CONFIG = join(packageRoot, 'src', 'images', 'vm', 'kernel-config', 'microvm-x86_64-6.1.config');

/** Marks the release string, so `uname -r` in a guest says which kernel it is. */
const LOCALVERSION = '-runner-codes';

/**
 * Builds the guest kernel from Debian's linux-source with Firecracker's microVM configuration
 * (`setup --vm --build-kernel`): vmlinux for Firecracker (and QEMU's PVH boot), bzImage as the
 * vmlinuz QEMU boots, no modules to load. Skipped when the kernel there was built from the same
 * source version and configuration. Minutes of compiling: never part of a plain `setup --vm`.
 */
export async function buildKernel(vm: VmPaths, onLine: (line: string) => void): Promise<{ manifest: KernelManifest; built: boolean }> {
  const version = (await runLogged(['dpkg-query', '--show', '--showformat=${Version}', KERNEL_SOURCE_PACKAGE], onLine)).trim();
  const configSha256 = createHash('sha256').update(readFileSync(MICROVM_KERNEL_CONFIG)).digest('hex');
  const current = readKernelManifest(vm);
  if (current?.source === 'built' && current.version === version && current.config_sha256 === configSha256) return { manifest: current, built: false };

  await mkdir(vm.dir, { recursive: true });
  const work = await mkdtemp(join(vm.dir, '.kernel-build-'));
  try {
    await runLogged(['tar', '--extract', '--xz', '--file', `/usr/src/${KERNEL_SOURCE_PACKAGE}.tar.xz`, '--directory', work], onLine);
    const source = join(work, KERNEL_SOURCE_PACKAGE);
    await copyFile(MICROVM_KERNEL_CONFIG, join(source, '.config'));
    // Reproducible identification strings instead of this machine's user, host and clock.
    const env = { ...process.env, KBUILD_BUILD_USER: 'runner-codes', KBUILD_BUILD_HOST: 'runner-codes', KBUILD_BUILD_TIMESTAMP: `Debian ${version}` };
    const make = (...targets: string[]): Promise<string> => runLogged(['make', '-C', source, ...targets], onLine, env);
    await runLogged([join(source, 'scripts', 'config'), '--file', join(source, '.config'), '--set-str', 'LOCALVERSION', LOCALVERSION], onLine, env);
    // The configuration was made for another 6.1 point release: new options take their defaults.
    await make('olddefconfig');
    await make(`-j${availableParallelism()}`, 'vmlinux', 'bzImage');
    const release = (await runLogged(['make', '-s', '-C', source, 'kernelrelease'], () => undefined, env)).trim();

    const staged = join(work, 'kernel');
    await mkdir(join(staged, 'modules'), { recursive: true });
    await copyFile(join(source, 'vmlinux'), join(staged, 'vmlinux'));
    await copyFile(join(source, 'arch', 'x86', 'boot', 'bzImage'), join(staged, 'vmlinuz'));
    await copyFile(join(source, '.config'), join(staged, 'config'));
    const manifest = await installKernel(vm, staged, { source: 'built', package: KERNEL_SOURCE_PACKAGE, version, release, modules: [], config_sha256: configSha256 });
    return { manifest, built: true };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
