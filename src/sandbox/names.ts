import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

/**
 * Sandbox names carry the owning process's pid (`rc-<pid>-<random>`), so that a later process can
 * tell sandboxes left by a crashed owner (pid gone) from those of a live one, and clean up only those.
 */
const PREFIX = 'rc-';

export function sandboxName(ownerPid: number = process.pid): string {
  return `${PREFIX}${ownerPid}-${randomBytes(6).toString('hex')}`;
}

/** The owner's pid of a sandbox name, or undefined when the name is not one of ours. */
export function ownerOf(name: string): number | undefined {
  const match = /^rc-(\d+)-[0-9a-f]+$/.exec(name);
  return match ? Number(match[1]) : undefined;
}

/** Whether `pid` is a live process (a zombie, exited but not yet reaped, counts as dead). */
export function isProcessAlive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}
