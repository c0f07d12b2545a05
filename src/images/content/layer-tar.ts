import { createReadStream, createWriteStream } from 'node:fs';
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { pack as tarPack, type Header, type Pack } from 'tar-stream';
import type { Digest } from './digest.js';
import type { LayerEntry } from './layer-entries.js';
import { Measure } from './measure.js';

/**
 * gzip level of every layer blob. Fixed so one zlib gives the same blob for the same layer; another
 * zlib version may compress differently, which changes the blob digest but not the diff_id (the
 * digest of the uncompressed tar), and the diff_ids are what an image's identity is made of.
 */
export const LAYER_GZIP_LEVEL = 6;

/** Directories, symlinks, links and whiteouts carry mtime 0; regular files keep theirs (see docs/images.md). */
const EPOCH = new Date(0);

// tar-stream replaces a falsy mode with its default: the type bits keep a 0000 mode truthy (only the
// permission bits are encoded).
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;

function headerOf(entry: LayerEntry): Partial<Header> & { name: string } {
  switch (entry.kind) {
    case 'dir':
      return { name: `${entry.path}/`, type: 'directory', mode: S_IFDIR | entry.mode, uid: entry.uid, gid: entry.gid, mtime: EPOCH };
    case 'file':
      return { name: entry.path, type: 'file', size: entry.size, mode: S_IFREG | entry.mode, uid: entry.uid, gid: entry.gid, mtime: new Date(entry.mtime * 1000) };
    case 'symlink':
      return { name: entry.path, type: 'symlink', linkname: entry.target, mode: 0o120777, uid: entry.uid, gid: entry.gid, mtime: EPOCH };
    case 'link':
      return { name: entry.path, type: 'link', linkname: entry.target, mode: S_IFREG, uid: 0, gid: 0, mtime: EPOCH };
    case 'whiteout':
      return { name: entry.path, type: 'file', size: 0, mode: S_IFREG, uid: 0, gid: 0, mtime: EPOCH };
  }
}

async function writeEntries(tar: Pack, entries: readonly LayerEntry[]): Promise<void> {
  try {
    for (const entry of entries) {
      await new Promise<void>((resolve, reject) => {
        const settle = (err?: Error | null): void => (err ? reject(err) : resolve());
        // A whiteout is a file entry without data: given as an empty body, or its sink waits for one.
        if (entry.kind === 'whiteout') return void tar.entry(headerOf(entry), Buffer.alloc(0), settle);
        const sink = tar.entry(headerOf(entry), settle);
        if (entry.kind !== 'file') return;
        // A file that changed size since it was listed fails the entry (tar-stream checks the size).
        const source = createReadStream(entry.source);
        source.once('error', reject);
        source.pipe(sink);
      });
    }
    tar.finalize();
  } catch (err) {
    tar.destroy(err as Error);
  }
}

export interface WrittenLayer {
  /** sha256 of the uncompressed canonical tar. */
  diffId: Digest;
  /** sha256 and size of the gzip blob, when one was written. */
  digest?: Digest;
  size?: number;
}

/**
 * Serialises layer entries as the canonical tar: the headers are functions of the entries alone
 * (numeric owners, no user or group names, no atime/ctime, pax only for names ustar cannot hold),
 * so the same tree gives the same bytes. With `blobPath`, also writes the gzip blob there.
 */
export async function writeLayer(entries: readonly LayerEntry[], blobPath?: string): Promise<WrittenLayer> {
  const tar = tarPack();
  const tarMeasure = new Measure();
  const done = blobPath === undefined
    ? pipeline(tar as unknown as Readable, tarMeasure, discard())
    : (() => {
        const blobMeasure = new Measure();
        return pipeline(tar as unknown as Readable, tarMeasure, createGzip({ level: LAYER_GZIP_LEVEL }), blobMeasure, createWriteStream(blobPath)).then(() => blobMeasure);
      })();
  void writeEntries(tar, entries);
  const blob = await done;
  const diffId = tarMeasure.digest();
  return blob instanceof Measure ? { diffId, digest: blob.digest(), size: blob.bytes } : { diffId };
}

function discard(): Writable {
  return new Writable({ write: (_chunk, _encoding, done) => done() });
}
