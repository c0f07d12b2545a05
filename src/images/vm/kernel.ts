import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, open, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ErrorCodes, ImageError } from '../../errors.js';
import { runLogged } from '../run-logged.js';
import { GUEST_MODULES, type VmPaths } from './paths.js';

/** Debian's kernel for cloud VMs: small, virtio drivers as modules, no hardware drivers. */
export const KERNEL_PACKAGE = 'linux-image-cloud-amd64';

export interface KernelManifest {
  /** Debian's packaged cloud kernel (`setup --vm`), or one built here (`setup --vm --build-kernel`); absent: debian. */
  source?: 'debian' | 'built';
  /** The versioned package the meta package pointed at (linux-image-6.1.0-56-cloud-amd64), or the source package built. */
  package: string;
  version: string;
  /** The kernel's release string (its /lib/modules directory name). */
  release: string;
  /** CONFIG_HZ: the guest's lpj boot argument is loops per jiffy. */
  hz: number;
  /** Module files the initramfs loads, in order (absent: GUEST_MODULES, Debian's); a built kernel has none. */
  modules?: string[];
  /** sha256 of the configuration a built kernel was made with. */
  config_sha256?: string;
  fetched_at: string;
}

/** The modules a kernel's initramfs loads, in load order. */
export function kernelModules(manifest: KernelManifest): string[] {
  return manifest.modules ?? GUEST_MODULES.map((module) => basename(module));
}

/** The guest kernel `setup --vm` prepared, or null when it is missing or incomplete. */
export function readKernelManifest(vm: VmPaths): KernelManifest | null {
  if (!existsSync(vm.kernelManifest) || !existsSync(vm.vmlinuz) || !existsSync(vm.vmlinux)) return null;
  return JSON.parse(readFileSync(vm.kernelManifest, 'utf8')) as KernelManifest;
}

/** Like readKernelManifest, for callers that need the kernel: an error naming the setup step instead of null. */
export function requireKernelManifest(vm: VmPaths): KernelManifest {
  const manifest = readKernelManifest(vm);
  if (!manifest) throw new ImageError(ErrorCodes.IMAGE_MISSING, 'the guest kernel is not prepared', { hint: 'run `infra.operator setup --vm`' });
  return manifest;
}

/**
 * Fetches the guest kernel with apt (`apt-get download`, checked against the archive's signed
 * index like any package) and unpacks what the guest needs: vmlinuz, its config and the virtio
 * modules. Skipped when the kernel the meta package names is already there.
 */
export async function fetchKernel(vm: VmPaths, onLine: (line: string) => void): Promise<{ manifest: KernelManifest; fetched: boolean }> {
  await mkdir(vm.dir, { recursive: true });
  const work = await mkdtemp(join(vm.dir, '.kernel-'));
  try {
    try {
      await runLogged(['apt-get', 'download', '-q', KERNEL_PACKAGE], onLine, aptEnv(), work);
    } catch {
      // Package lists older than the mirror name files it no longer has: refresh them once.
      await runLogged(['apt-get', 'update', '-q'], onLine, aptEnv());
      await runLogged(['apt-get', 'download', '-q', KERNEL_PACKAGE], onLine, aptEnv(), work);
    }
    const meta = join(work, (await readdir(work)).find((f) => f.endsWith('.deb'))!);
    const depends = (await runLogged(['dpkg-deb', '--field', meta, 'Depends'], onLine)).trim();
    const match = /^(linux-image-[^\s,]+) \(= ([^)]+)\)/.exec(depends);
    if (!match) throw new ImageError(ErrorCodes.IMAGE_BUILD, `${KERNEL_PACKAGE} depends on '${depends}', not on one kernel package`);
    const [, pkg, version] = match as unknown as [string, string, string];
    const current = readKernelManifest(vm);
    if (current?.source !== 'built' && current?.package === pkg && current.version === version) return { manifest: current, fetched: false };

    await runLogged(['apt-get', 'download', '-q', pkg], onLine, aptEnv(), work);
    const deb = join(work, (await readdir(work)).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'))!);
    const tree = join(work, 'tree');
    await runLogged(['dpkg-deb', '--extract', deb, tree], onLine);
    const release = pkg.replace(/^linux-image-/, '');
    const staged = join(work, 'kernel');
    await mkdir(join(staged, 'modules'), { recursive: true });
    await copyFile(join(tree, 'boot', `vmlinuz-${release}`), join(staged, 'vmlinuz'));
    await copyFile(join(tree, 'boot', `config-${release}`), join(staged, 'config'));
    await unpackVmlinux(join(staged, 'vmlinuz'), join(staged, 'vmlinux'));
    for (const module of GUEST_MODULES) {
      await copyFile(join(tree, 'lib', 'modules', release, 'kernel', module), join(staged, 'modules', basename(module)));
    }
    const modules = GUEST_MODULES.map((module) => basename(module));
    const manifest = await installKernel(vm, staged, { source: 'debian', package: pkg, version, release, modules });
    return { manifest, fetched: true };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * Puts a staged kernel directory (vmlinuz, vmlinux, config, modules/) in place of the current one,
 * with its manifest; CONFIG_HZ is read from its config.
 */
export async function installKernel(vm: VmPaths, staged: string, about: Omit<KernelManifest, 'hz' | 'fetched_at'>): Promise<KernelManifest> {
  const config = await readFile(join(staged, 'config'), 'utf8');
  const hz = Number(/^CONFIG_HZ=(\d+)$/m.exec(config)?.[1] ?? 250);
  const manifest: KernelManifest = { ...about, hz, fetched_at: new Date().toISOString() };
  await writeFile(join(staged, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  await rm(vm.kernelDir, { recursive: true, force: true });
  await rename(staged, vm.kernelDir);
  return manifest;
}

/** Start of an LZ4 "legacy" frame, which is how Debian compresses the kernel inside bzImage. */
const LZ4_LEGACY_MAGIC = Buffer.from([0x02, 0x21, 0x4c, 0x18]);
const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);

/**
 * Firecracker boots only an uncompressed ELF `vmlinux`; Debian ships a bzImage whose payload is
 * LZ4. Decompress the payload from its magic with lz4(1). lz4 complains about the bzImage trailer
 * after the frame (exit status 1), so the result is judged by what it wrote: an ELF file.
 */
async function unpackVmlinux(vmlinuz: string, vmlinux: string): Promise<void> {
  const image = await readFile(vmlinuz);
  const start = image.indexOf(LZ4_LEGACY_MAGIC);
  if (start < 0) throw new ImageError(ErrorCodes.IMAGE_BUILD, `${vmlinuz} holds no LZ4-compressed kernel`);
  await new Promise<void>((resolve, reject) => {
    const child = spawn('lz4', ['-dc'], { stdio: ['pipe', 'pipe', 'ignore'] });
    const out = createWriteStream(vmlinux);
    child.stdout.pipe(out);
    child.once('error', (err) => reject(new ImageError(ErrorCodes.IMAGE_BUILD, `cannot run lz4: ${err.message}`, { cause: err })));
    out.once('close', () => resolve());
    child.stdin.on('error', () => undefined); // lz4 may stop reading at the end of the frame
    child.stdin.end(image.subarray(start));
  });
  const head = Buffer.alloc(4);
  const fd = await open(vmlinux, 'r');
  await fd.read(head, 0, 4, 0).finally(() => fd.close());
  if (!head.equals(ELF_MAGIC)) throw new ImageError(ErrorCodes.IMAGE_BUILD, `unpacking ${vmlinuz} gave no ELF kernel`);
}

function aptEnv(): NodeJS.ProcessEnv {
  return { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
}
