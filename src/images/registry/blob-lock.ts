import { randomBytes } from 'node:crypto';
import { link, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCodes, ImageError } from '../../errors.js';

/** How long a pull waits for another process's download of the same blob before giving up. */
const WAIT_MS = 30 * 60 * 1000;
const POLL_MS = 200;
/** An empty lock younger than this is one being written (by a pull of an older version, which created it empty first): waited for, not taken over. */
const EMPTY_GRACE_MS = 10_000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Runs `fn` holding `<tempPath>.lock` (linked into place with our pid already in it, so that no
 * other pull ever reads an empty lock and takes it for a stale one), so that two pulls on
 * one host (`api --pull` and `worker --pull` starting together) never write the same temp file at
 * once: the second waits, then finds the blob in the store. A lock whose process is gone is taken over
 * (best effort: two takers of one stale lock in the same instant could both proceed; a clash then ends
 * in a digest error and a clean retry, never in a wrong blob, since every commit is verified).
 */
export async function withBlobLock<T>(tempPath: string, fn: () => Promise<T>): Promise<T> {
  const lock = `${tempPath}.lock`;
  // Written first, then hard-linked as the lock: link() fails with EEXIST like O_EXCL, and the lock
  // it makes has its content from the start (writeFile's 'wx' creates the file empty, then writes).
  const mine = `${lock}-${process.pid}-${randomBytes(4).toString('hex')}`;
  await writeFile(mine, String(process.pid), { flag: 'wx', mode: 0o600 });
  const deadline = Date.now() + WAIT_MS;
  try {
    for (;;) {
      try {
        await link(mine, lock);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const text = await readFile(lock, 'utf8').catch(() => null);
        if (text === null) continue; // released meanwhile: try again (never remove a lock not read)
        const holder = Number(text);
        const beingWritten = text === '' && Date.now() - ((await stat(lock).catch(() => null))?.mtimeMs ?? 0) < EMPTY_GRACE_MS;
        if (!beingWritten && (!Number.isSafeInteger(holder) || holder <= 0 || !alive(holder))) {
          await rm(lock, { force: true });
          continue;
        }
        if (Date.now() > deadline) throw new ImageError(ErrorCodes.REGISTRY, `another pull (pid ${holder}) has been fetching ${tempPath} for ${WAIT_MS / 60000} minutes`);
        await sleep(POLL_MS);
      }
    }
  } finally {
    await rm(mine, { force: true });
  }
  try {
    return await fn();
  } finally {
    await rm(lock, { force: true });
  }
}
