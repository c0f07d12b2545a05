import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

/**
 * Sandbox names carry the owning process's pid and the sandbox's host uid
 * (`rc-<pid>-u<uid>-<random>`): a later process can tell sandboxes left by a crashed owner (pid
 * gone) from those of a live one and clean up only those, and every engine on the host can see
 * which host uids are taken.
 */
const PREFIX = 'rc-';
const NAME = /^rc-(\d+)-(?:u(\d+)-)?[0-9a-f]+$/;

export function sandboxName(ownerPid: number = process.pid, hostUid?: number): string {
  const uid = hostUid === undefined ? '' : `u${hostUid}-`;
  return `${PREFIX}${ownerPid}-${uid}${randomBytes(6).toString('hex')}`;
}

/** The owner's pid of a sandbox name, or undefined when the name is not one of ours. */
export function ownerOf(name: string): number | undefined {
  const match = NAME.exec(name);
  return match ? Number(match[1]) : undefined;
}

/** The host uid a sandbox runs as, from its name (undefined for names without one). */
export function hostUidOf(name: string): number | undefined {
  const uid = NAME.exec(name)?.[2];
  return uid === undefined ? undefined : Number(uid);
}

/** Whether `pid` is a live process (a zombie, exited but not yet reaped, counts as dead). */
export function isProcessAlive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}
