import type { Stats } from 'node:fs';
import { lstat, open, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCodes, ImageError } from '../../errors.js';

/** One entry of a canonical layer, in the order the layer holds them (bytewise by path). */
export type LayerEntry =
  | { kind: 'dir'; path: string; mode: number; uid: number; gid: number }
  | { kind: 'file'; path: string; mode: number; uid: number; gid: number; size: number; mtime: number; source: string }
  | { kind: 'symlink'; path: string; uid: number; gid: number; target: string }
  /** A hardlink to `target`, an earlier entry of this layer or a file of a lower one. */
  | { kind: 'link'; path: string; target: string }
  /** OCI whiteout: `path` (`dir/.wh.name`) removes `dir/name` of the lower layers. */
  | { kind: 'whiteout'; path: string };

export const WHITEOUT_PREFIX = '.wh.';

interface Node {
  path: string;
  stat: Stats;
}

const byBytes = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

/**
 * Every path under `root` (relative, no leading `./`) with its lstat, sorted bytewise. Sockets,
 * FIFOs and device nodes are left out: no sandbox needs them from the image (bwrap mounts its own
 * /dev, the VM guest a devtmpfs). Names must be UTF-8, which tar headers and JSON carry unchanged.
 */
export async function walkTree(root: string): Promise<Node[]> {
  const nodes: Node[] = [];
  const visit = async (dir: string, prefix: string): Promise<void> => {
    for (const raw of await readdir(join(root, dir), { encoding: 'buffer' })) {
      const name = raw.toString('utf8');
      if (!Buffer.from(name, 'utf8').equals(raw)) throw new ImageError(ErrorCodes.IMAGE_BUILD, `${root}: '${prefix}${name}' is not a UTF-8 name`);
      const path = prefix + name;
      const stat = await lstat(join(root, path));
      if (!stat.isDirectory() && !stat.isFile() && !stat.isSymbolicLink()) continue;
      nodes.push({ path, stat });
      if (stat.isDirectory()) await visit(path, `${path}/`);
    }
  };
  await visit('', '');
  return nodes.sort((a, b) => byBytes(a.path, b.path));
}

/**
 * The entries of `root`'s layer: the whole tree, or, given the parent's tree, what is new or
 * changed relative to it (a different inode whose type, owner, mode, size, mtime or bytes differ)
 * plus a whiteout for each topmost path the parent had and `root` has not. Files sharing an inode
 * are stored once; later names are links to the first (the first may sit in a lower layer).
 */
export async function layerEntries(root: string, parentRoot?: string): Promise<LayerEntry[]> {
  const nodes = await walkTree(root);
  const parent = parentRoot === undefined ? undefined : new Map((await walkTree(parentRoot)).map((node) => [node.path, node.stat]));
  const firstOfInode = new Map<string, string>();
  const entries: LayerEntry[] = [];
  const present = new Map<string, Stats>();
  for (const { path, stat } of nodes) {
    present.set(path, stat);
    const inode = stat.isFile() ? `${stat.dev}:${stat.ino}` : undefined;
    const first = inode === undefined ? undefined : firstOfInode.get(inode);
    if (inode !== undefined && first === undefined) firstOfInode.set(inode, path);
    const before = parent?.get(path);
    if (before && !(await differs(join(root, path), stat, join(parentRoot!, path), before))) continue;
    entries.push(await entryOf(root, path, stat, first));
  }
  if (parent && parentRoot !== undefined) {
    for (const path of parent.keys()) {
      if (present.has(path)) continue;
      const slash = path.lastIndexOf('/');
      const dir = slash < 0 ? '' : path.slice(0, slash);
      // Only the topmost removed path: inside a removed directory, the directory's whiteout covers it.
      if (dir !== '' && !present.get(dir)?.isDirectory()) continue;
      entries.push({ kind: 'whiteout', path: `${dir === '' ? '' : `${dir}/`}${WHITEOUT_PREFIX}${path.slice(slash + 1)}` });
    }
  }
  return entries.sort((a, b) => byBytes(a.path, b.path));
}

async function entryOf(root: string, path: string, stat: Stats, firstOfInode: string | undefined): Promise<LayerEntry> {
  const owner = { uid: stat.uid, gid: stat.gid };
  if (stat.isDirectory()) return { kind: 'dir', path, mode: stat.mode & 0o7777, ...owner };
  if (stat.isSymbolicLink()) return { kind: 'symlink', path, ...owner, target: await readlink(join(root, path)) };
  if (firstOfInode !== undefined) return { kind: 'link', path, target: firstOfInode };
  return { kind: 'file', path, mode: stat.mode & 0o7777, ...owner, size: stat.size, mtime: Math.floor(stat.mtimeMs / 1000), source: join(root, path) };
}

/** Whether a path of the child tree differs from the same path of the parent's (see layerEntries). */
async function differs(path: string, stat: Stats, parentPath: string, before: Stats): Promise<boolean> {
  const type = (s: Stats): string => (s.isDirectory() ? 'd' : s.isSymbolicLink() ? 'l' : 'f');
  if (type(stat) !== type(before) || stat.uid !== before.uid || stat.gid !== before.gid) return true;
  if (stat.isDirectory()) return (stat.mode & 0o7777) !== (before.mode & 0o7777);
  if (stat.dev === before.dev && stat.ino === before.ino) return false;
  if (stat.isSymbolicLink()) return (await readlink(path)) !== (await readlink(parentPath));
  if ((stat.mode & 0o7777) !== (before.mode & 0o7777) || stat.size !== before.size) return true;
  if (Math.floor(stat.mtimeMs / 1000) !== Math.floor(before.mtimeMs / 1000)) return true;
  return !(await sameBytes(path, parentPath, stat.size));
}

/** Whether two files of the same size hold the same bytes. */
async function sameBytes(a: string, b: string, size: number): Promise<boolean> {
  const [left, right] = await Promise.all([open(a, 'r'), open(b, 'r')]);
  try {
    const bufA = Buffer.alloc(1 << 20);
    const bufB = Buffer.alloc(1 << 20);
    for (let position = 0; position < size; ) {
      const [readA, readB] = await Promise.all([left.read(bufA, 0, bufA.length, position), right.read(bufB, 0, bufB.length, position)]);
      if (readA.bytesRead === 0 || readA.bytesRead !== readB.bytesRead) return false;
      if (!bufA.subarray(0, readA.bytesRead).equals(bufB.subarray(0, readB.bytesRead))) return false;
      position += readA.bytesRead;
    }
    return true;
  } finally {
    await Promise.all([left.close(), right.close()]);
  }
}
