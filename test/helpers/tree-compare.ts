import { createHash } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { walkTree } from '../../src/images/content/layer-entries.js';

/**
 * A tree as comparable lines: type, mode, owner, and per type the bytes' sha256 and mtime, the
 * symlink target, or the directory; plus which paths share an inode (hardlink groups). Device
 * nodes, sockets and FIFOs are left out, as layers leave them out.
 */
export async function describeTree(root: string): Promise<string[]> {
  const lines: string[] = [];
  const groups = new Map<string, string[]>();
  for (const { path, stat } of await walkTree(root)) {
    const head = `${path} ${(stat.mode & 0o7777).toString(8)} ${stat.uid}:${stat.gid}`;
    if (stat.isDirectory()) lines.push(`${head} dir`);
    else if (stat.isSymbolicLink()) lines.push(`${head} -> ${readlinkSync(join(root, path))}`);
    else {
      lines.push(`${head} ${createHash('sha256').update(readFileSync(join(root, path))).digest('hex')} ${Math.floor(stat.mtimeMs / 1000)}`);
      const inode = `${stat.dev}:${stat.ino}`;
      groups.set(inode, [...(groups.get(inode) ?? []), path]);
    }
  }
  for (const group of groups.values()) if (group.length > 1) lines.push(`links ${group.join(' ')}`);
  return lines.sort();
}
