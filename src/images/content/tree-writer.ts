import { constants } from 'node:fs';
import { chmod, chown, lchown, link, lstat, mkdir, open, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Header } from 'tar-stream';
import { ErrorCodes, ImageError } from '../../errors.js';
import { WHITEOUT_PREFIX, walkTree } from './layer-entries.js';

/** An entry's data as tar-stream hands it over (a streamx Readable). */
export interface EntryBody extends AsyncIterable<unknown> {
  resume(): unknown;
}

/** Bounds of one import (all layers together). */
export interface ImportBounds {
  /** Total bytes of regular files. */
  maxBytes: number;
  maxEntries: number;
}

export const DEFAULT_IMPORT_BOUNDS: ImportBounds = { maxBytes: 32 * 1024 ** 3, maxEntries: 4_000_000 };

const MAX_PATH_BYTES = 4000;

function refuse(what: string): never {
  throw new ImageError(ErrorCodes.IMAGE_IMPORT, what);
}

/**
 * A layer path as a list of plain components: no absolute path, no `..`, `.` or empty component,
 * no NUL. One leading `./` and a directory's trailing `/` are tolerated (other tars write them).
 */
export function layerPath(raw: string | null | undefined, field = 'path'): string {
  if (typeof raw !== 'string' || raw === '') refuse(`layer entry with an empty ${field}`);
  let path = raw.startsWith('./') ? raw.slice(2) : raw;
  if (path.endsWith('/')) path = path.slice(0, -1);
  const shown = JSON.stringify(raw.slice(0, 200));
  if (path === '' || path.startsWith('/')) refuse(`layer ${field} ${shown} is absolute or empty`);
  if (path.includes('\0') || Buffer.byteLength(path) > MAX_PATH_BYTES) refuse(`layer ${field} ${shown} holds NUL or is too long`);
  for (const part of path.split('/')) {
    if (part === '' || part === '.' || part === '..') refuse(`layer ${field} ${shown} leaves its tree or is not normalised`);
  }
  return path;
}

const parentOf = (path: string): string => {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
};

/**
 * Applies layer tars, in order, to a new private tree. SECURITY: layers come from anyone's
 * registry. Every write goes into a directory this writer created itself (tracked, and checked with
 * lstat: never through a symlink a layer planted), files are created with O_EXCL|O_NOFOLLOW, a path
 * being replaced is removed first (never written through, never chmod-ed in place, which would
 * change a file a hardlink shares), owners are numeric and set with lchown/fchown, and only
 * directories, regular files, symlinks and hardlinks to regular files of the tree are accepted: no
 * device nodes, FIFOs, opaque whiteouts, or setuid/setgid files (built images have none:
 * trim-rootfs.sh removes them). Sizes and entry counts are bounded.
 */
export class TreeWriter {
  readonly root: string;
  readonly #bounds: ImportBounds;
  /** Directories this writer made (relative paths; '' is the root). */
  readonly #dirs = new Set<string>(['']);
  #bytes = 0;
  #entries = 0;

  constructor(root: string, bounds: ImportBounds = DEFAULT_IMPORT_BOUNDS) {
    this.root = root;
    this.#bounds = bounds;
  }

  /**
   * Takes over a tree already at the root (a hardlinked copy of an image imported before, whose
   * layers this import shares): its directories become ones this writer may write into.
   */
  async adoptTree(): Promise<void> {
    for (const { path, stat } of await walkTree(this.root)) if (stat.isDirectory()) this.#dirs.add(path);
  }

  /** Applies one tar entry; `body` is its data stream (drained here for entries without data). */
  async entry(header: Header, body: EntryBody): Promise<void> {
    if (++this.#entries > this.#bounds.maxEntries) refuse(`the image has more than ${this.#bounds.maxEntries} entries`);
    const path = layerPath(header.name);
    await this.#checkParent(path);
    const mode = (header.mode ?? 0) & 0o7777;
    const uid = header.uid ?? 0;
    const gid = header.gid ?? 0;
    if (!Number.isSafeInteger(uid) || !Number.isSafeInteger(gid) || uid < 0 || gid < 0 || uid > 0x7fffffff || gid > 0x7fffffff) refuse(`'${path}': owner ${uid}:${gid} is out of range`);
    const name = path.slice(path.lastIndexOf('/') + 1);
    switch (header.type) {
      case 'directory':
        body.resume();
        return this.#directory(path, mode, uid, gid);
      case 'file':
        if (name.startsWith(WHITEOUT_PREFIX)) {
          body.resume();
          return this.#whiteout(path, name.slice(WHITEOUT_PREFIX.length));
        }
        return this.#file(path, mode, uid, gid, header, body);
      case 'symlink':
        body.resume();
        return this.#symlink(path, header.linkname, uid, gid);
      case 'link':
        body.resume();
        return this.#hardlink(path, layerPath(header.linkname, 'link target'));
      default:
        refuse(`'${path}': entries of type ${String(header.type)} are not allowed in an image layer`);
    }
  }

  /** The parent must be a directory this writer made, and still a real directory (lstat, no symlink). */
  async #checkParent(path: string): Promise<void> {
    const parent = parentOf(path);
    if (!this.#dirs.has(parent)) refuse(`'${path}': its parent is not a directory of the image (a symlink or a file, or missing)`);
    const stat = await lstat(join(this.root, parent));
    if (!stat.isDirectory()) refuse(`'${path}': its parent is not a directory`);
  }

  /** Removes what a path holds (a directory with everything below it); nothing there is fine. */
  async #clear(path: string): Promise<void> {
    const full = join(this.root, path);
    const stat = await lstat(full).catch(() => undefined);
    if (!stat) return;
    if (stat.isDirectory()) {
      for (const dir of this.#dirs) if (dir === path || dir.startsWith(`${path}/`)) this.#dirs.delete(dir);
    }
    // SECURITY: rm removes symlinks themselves, never what they point at.
    await rm(full, { recursive: true, force: true });
  }

  async #directory(path: string, mode: number, uid: number, gid: number): Promise<void> {
    const full = join(this.root, path);
    if (!this.#dirs.has(path)) {
      await this.#clear(path);
      await mkdir(full, { mode: 0o700 });
      this.#dirs.add(path);
    }
    // SECURITY: `full` is a directory this writer made (tracked above); chown/chmod cannot follow a link.
    await chown(full, uid, gid);
    await chmod(full, mode);
  }

  async #whiteout(path: string, removed: string): Promise<void> {
    if (removed === '' || removed === '.' || removed === '..') refuse(`'${path}': not a valid whiteout`);
    if (removed.startsWith(WHITEOUT_PREFIX)) refuse(`'${path}': opaque whiteouts are not supported (Runner Codes layers never hold them)`);
    const parent = parentOf(path);
    await this.#clear(parent === '' ? removed : `${parent}/${removed}`);
  }

  async #file(path: string, mode: number, uid: number, gid: number, header: Header, body: EntryBody): Promise<void> {
    if (mode & 0o6000) refuse(`'${path}': setuid/setgid files are not allowed (sandboxes run with no_new_privs; built images have none)`);
    this.#bytes += header.size ?? 0;
    if (this.#bytes > this.#bounds.maxBytes) refuse(`the image is larger than the ${this.#bounds.maxBytes}-byte bound`);
    await this.#clear(path);
    // SECURITY: O_EXCL|O_NOFOLLOW: a new file in a directory of ours, never an existing one or a link.
    const file = await open(join(this.root, path), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    try {
      for await (const chunk of body) {
        const data = chunk as Buffer;
        for (let offset = 0; offset < data.length; ) offset += (await file.write(data, offset)).bytesWritten;
      }
      await file.chown(uid, gid);
      await file.chmod(mode);
      const mtime = header.mtime ?? new Date(0);
      await file.utimes(mtime, mtime);
    } finally {
      await file.close();
    }
  }

  async #symlink(path: string, target: string | null | undefined, uid: number, gid: number): Promise<void> {
    if (typeof target !== 'string' || target === '' || target.includes('\0') || Buffer.byteLength(target) > MAX_PATH_BYTES) refuse(`'${path}': invalid symlink target`);
    await this.#clear(path);
    // The target is stored as text and never followed by this writer (any later entry below it fails #checkParent).
    await symlink(target, join(this.root, path));
    await lchown(join(this.root, path), uid, gid);
  }

  async #hardlink(path: string, target: string): Promise<void> {
    if (target === path) refuse(`'${path}': a hardlink to itself`);
    if (!this.#dirs.has(parentOf(target))) refuse(`'${path}': link target '${target}' is not inside a directory of the image`);
    const stat = await lstat(join(this.root, target)).catch(() => undefined);
    if (!stat?.isFile()) refuse(`'${path}': link target '${target}' is not a regular file of the image`);
    await this.#clear(path);
    await link(join(this.root, target), join(this.root, path));
  }
}
