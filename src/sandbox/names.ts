import { randomBytes } from 'node:crypto';

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

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
