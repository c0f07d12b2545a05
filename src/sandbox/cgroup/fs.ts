import { readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { rmdir } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/** Small synchronous helpers for cgroupfs files: kernel files, microseconds each, no event-loop hop. */
export function writeControl(path: string, value: string | number): void {
  writeFileSync(path, String(value));
}

export function readControl(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** Reads `key value` lines (memory.events, memory.oom_control) into a map. */
export function readKeyedCounters(path: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of (readControl(path) ?? '').split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value !== undefined && /^\d+$/.test(value)) out.set(key, Number(value));
  }
  return out;
}

export function readPids(procsFile: string): number[] {
  return (readControl(procsFile) ?? '')
    .split('\n')
    .filter((line) => line !== '')
    .map(Number);
}

export function listDirs(path: string): string[] {
  try {
    return readdirSync(path, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name);
  } catch {
    return [];
  }
}

/**
 * rmdir a cgroup directory, retrying while it is still busy (killed tasks take a moment to
 * leave) for up to `timeoutMs`, then throwing EBUSY (removals.ts goes on in the background).
 * Missing directories count as removed. Asynchronous on purpose: removing a memory cgroup
 * costs the kernel about a millisecond, which belongs on libuv's thread pool, not the event loop.
 */
export async function removeCgroupDir(path: string, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
    try {
      await rmdir(path);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || Date.now() > deadline) throw err;
    }
    await sleep(delay);
  }
}
