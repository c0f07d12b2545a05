import { readFile, rm, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCodes, ImageError } from '../../errors.js';

/** How long a pull waits for another process's download of the same blob before giving up. */
const WAIT_MS = 30 * 60 * 1000;
const POLL_MS = 200;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Runs `fn` holding `<tempPath>.lock` (created exclusively, holding our pid), so that two pulls on
 * one host (`api --pull` and `worker --pull` starting together) never write the same temp file at
 * once: the second waits, then finds the blob in the store. A lock whose process is gone is taken over
 * (best effort: two takers of one stale lock in the same instant could both proceed; a clash then ends
 * in a digest error and a clean retry, never in a wrong blob, since every commit is verified).
 */
export async function withBlobLock<T>(tempPath: string, fn: () => Promise<T>): Promise<T> {
  const lock = `${tempPath}.lock`;
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    try {
      await writeFile(lock, String(process.pid), { flag: 'wx', mode: 0o600 });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(await readFile(lock, 'utf8').catch(() => ''));
      if (!Number.isSafeInteger(holder) || holder <= 0 || !alive(holder)) {
        await rm(lock, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new ImageError(ErrorCodes.REGISTRY, `another pull (pid ${holder}) has been fetching ${tempPath} for ${WAIT_MS / 60000} minutes`);
      await sleep(POLL_MS);
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lock, { force: true });
  }
}
