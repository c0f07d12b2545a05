import { existsSync, readdirSync, rmSync } from 'node:fs';
import { chmod, chown, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { isProcessAlive, ownerOf } from './names.js';

/**
 * Makes a VM's private directory (its sockets): owned by the VM's uid, 0700. The parent is
 * traversable but not listable, so VM uids cannot see each other's names.
 */
export async function makeVmDir(dir: string, uid: number): Promise<void> {
  const parent = dirname(dir);
  await mkdir(parent, { recursive: true, mode: 0o711 });
  await chmod(parent, 0o711);
  await mkdir(dir, { mode: 0o700 });
  await chown(dir, uid, uid);
}

/**
 * Removes the per-VM directories under `parent` whose owning process died (a crash). Their cgroups
 * are removed first (removeStaleSandboxes), so no process of those VMs is left to change them.
 */
export function removeStaleVmDirs(parent: string): void {
  if (!existsSync(parent)) return;
  for (const name of readdirSync(parent)) {
    const owner = ownerOf(name);
    if (owner !== undefined && !isProcessAlive(owner)) rmSync(join(parent, name), { recursive: true, force: true });
  }
}
