import { setTimeout as sleep } from 'node:timers/promises';
import { removeCgroupDir } from './fs.js';

/** How long a removal waits for a killed cgroup to empty before it goes on in the background. */
export const REMOVE_WAIT_MS = 2000;
/** Longest pause between two background attempts. */
const RETRY_MAX_MS = 1000;

/** What removing one cgroup takes: kill every task in it (again on each attempt), then rmdir its directories. */
export interface CgroupRemoval {
  kill(): Promise<void>;
  dirs(): readonly string[];
}

/**
 * A driver's removals. A killed cgroup's rmdir stays EBUSY until its last task has left it, which
 * can take longer than a caller should wait: a large address space still unmapping, a task in
 * uninterruptible sleep, or one frozen by an ancestor cgroup (a SIGKILL does not wake a task
 * frozen by the v1 freezer). One still busy after REMOVE_WAIT_MS is not given up: it is retried
 * in the background, killed again before each attempt (a task forked while a freeze was still
 * under way), with backoff, until its directories are gone. Its name stays listed (names()) so no
 * new sandbox gets its host uid and leak checks still see it; settle() lets a closing owner wait.
 * A process that exits first leaves it to the next engine's stale clean-up (its owner is dead).
 */
export class CgroupRemovals {
  readonly #pending = new Map<string, Promise<void>>();

  /** Cgroups still being removed in the background. */
  names(): string[] {
    return [...this.#pending.keys()];
  }

  /**
   * Kills and removes a cgroup. Resolves once it is gone, or once it is left to the background
   * (its tasks killed, still exiting); rejects only on an error other than EBUSY.
   */
  async remove(name: string, removal: CgroupRemoval): Promise<void> {
    // Already retried in the background: killed already, and it goes when it can.
    if (this.#pending.has(name)) return;
    await removal.kill();
    try {
      await removeAll(removal, REMOVE_WAIT_MS);
      return;
    } catch (err) {
      if (!isBusy(err)) throw err;
    }
    const retrying = this.#retry(removal).finally(() => this.#pending.delete(name));
    this.#pending.set(name, retrying);
  }

  /** Waits up to `timeoutMs` for the background removals; returns the names still not removed. */
  async settle(timeoutMs: number): Promise<string[]> {
    if (this.#pending.size > 0) {
      const timer = new AbortController();
      await Promise.race([Promise.all(this.#pending.values()), sleep(timeoutMs, undefined, { signal: timer.signal }).catch(() => undefined)]);
      timer.abort();
    }
    return this.names();
  }

  async #retry(removal: CgroupRemoval): Promise<void> {
    for (let delay = 50; ; delay = Math.min(delay * 2, RETRY_MAX_MS)) {
      // Unreferenced: a pending removal does not keep an exiting process alive.
      await sleep(delay, undefined, { ref: false });
      try {
        await removal.kill();
        await removeAll(removal, 0);
        return;
      } catch {
        // still busy (or a directory went between the kill and the rmdir): try again
      }
    }
  }
}

function removeAll(removal: CgroupRemoval, timeoutMs: number): Promise<unknown> {
  return Promise.all(removal.dirs().map((dir) => removeCgroupDir(dir, timeoutMs)));
}

function isBusy(err: unknown): boolean {
  return (err as NodeJS.ErrnoException)?.code === 'EBUSY';
}
