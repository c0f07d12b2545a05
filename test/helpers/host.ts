import { readFileSync, readdirSync } from 'node:fs';
import { dataPaths } from '../../src/config/paths.js';
import { openCgroupDriver } from '../../src/sandbox/cgroup/detect.js';
import { DEFAULT_HOST_ID_RANGE, inHostIdRange } from '../../src/sandbox/host-ids.js';
import { isProcessAlive, ownerOf } from '../../src/sandbox/names.js';

/** Whether a host uid is one sandboxes run as. */
export function isSandboxUid(uid: number): boolean {
  return inHostIdRange(DEFAULT_HOST_ID_RANGE, uid);
}

/**
 * Sandboxes this process answers for: its own, and those of owners that died (a crash leftover).
 * Another live engine's sandboxes (a test run beside this one) are its business.
 */
function ours(sandbox: string): boolean {
  const owner = ownerOf(sandbox);
  return owner === undefined || owner === process.pid || !isProcessAlive(owner);
}

export interface Leftovers {
  cgroups: string[];
  processes: string[];
  /** Host mounts that mention an image or bwrap (sandbox mounts live in their own namespace). */
  mounts: string[];
}

/** PF_EXITING in /proc/PID/stat's flags (the 9th field, the 7th after the parenthesised comm). */
function exiting(pid: string): boolean {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const flags = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[6]);
  return (flags & 0x4) !== 0;
}

function processes(): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      // A zombie has exited and left its cgroup; its new parent (init) reaps it on its own time.
      if (/^State:\s+Z/m.test(status)) continue;
      // Nor does one whose kill has landed (PF_EXITING): a sandbox's interpreter may still be
      // unmapping its memory when its cgroup is already gone; it never runs again.
      if (exiting(pid)) continue;
      const comm = /^Name:\s+(.*)$/m.exec(status)?.[1] ?? '';
      const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
      const sandbox = /\/runner-codes\/(rc-[^/\n]+)/.exec(readFileSync(`/proc/${pid}/cgroup`, 'utf8'))?.[1];
      // In one of our sandbox cgroups, or running as a sandbox uid outside every sandbox (escaped).
      if ((sandbox && ours(sandbox)) || (!sandbox && isSandboxUid(uid))) found.push(`${pid} ${comm} uid=${uid}`);
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}

function mounts(): string[] {
  const images = dataPaths().imagesDir;
  return readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .filter((line) => line.includes(images) || line.includes('bwrap'));
}

/** What sandboxes left behind on the host (host-side evidence, not program output). */
export function leftovers(): Leftovers {
  return { cgroups: openCgroupDriver().list().filter(ours), processes: processes(), mounts: mounts() };
}

export const NOTHING_LEFT: Leftovers = { cgroups: [], processes: [], mounts: [] };
