import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ErrorCodes, ImageError } from '../../errors.js';
import type { VmPaths } from './paths.js';

/**
 * Builds the guest's initramfs: runner-vminit as /init, runner-agent, and the kernel's virtio
 * modules (`modules`, from the kernel's modules directory; none for a built kernel) with their load order. A cpio "newc" archive written by cpio(1), uncompressed: it is about 2 MB, and
 * the kernel unpacks it faster than it would decompress it under emulation.
 */
export async function buildInitramfs(vm: VmPaths, vmInit: string, agent: string, modules: readonly string[]): Promise<void> {
  const staging = await mkdtemp(join(vm.dir, '.initramfs-'));
  const partial = `${vm.initramfs}.partial`;
  try {
    await mkdir(join(staging, 'modules'));
    await copyFile(vmInit, join(staging, 'init'));
    await copyFile(agent, join(staging, 'runner-agent'));
    await chmod(join(staging, 'init'), 0o755);
    await chmod(join(staging, 'runner-agent'), 0o755);
    for (const module of modules) await copyFile(join(vm.modulesDir, module), join(staging, 'modules', module));
    await writeFile(join(staging, 'modules', 'order'), modules.map((m) => `${m}\n`).join(''));
    const entries = ['.', 'init', 'runner-agent', 'modules', 'modules/order', ...modules.map((m) => `modules/${m}`)];
    await cpio(staging, entries, partial);
    await rename(partial, vm.initramfs);
  } finally {
    await rm(staging, { recursive: true, force: true });
    await rm(partial, { force: true });
  }
}

/**
 * Writes a newc archive of `entries` (paths relative to `dir`), every file owned by root. Resolves
 * once cpio has exited and the archive is on disk: the write stream is waited for through
 * `pipeline`, never by listening for its 'close' after cpio's (it may have closed already, and a
 * promise that then never settled made `setup --vm` exit with Node's status 13 mid-way).
 */
async function cpio(dir: string, entries: readonly string[], output: string): Promise<void> {
  const child = spawn('cpio', ['--create', '--format=newc', '--owner=0:0', '--quiet'], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', (err) => reject(new ImageError(ErrorCodes.IMAGE_BUILD, `cannot run cpio: ${err.message}`, { cause: err })));
    child.once('close', resolve);
  });
  const written = pipeline(child.stdout, createWriteStream(output));
  child.stdin.end(entries.join('\n') + '\n');
  const [code] = await Promise.all([exited, written]);
  if (code !== 0) throw new ImageError(ErrorCodes.IMAGE_BUILD, `cpio exited with status ${code}: ${stderr.trim()}`);
}
