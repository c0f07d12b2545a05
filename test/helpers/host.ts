import { readFileSync, readdirSync } from 'node:fs';
import { dataPaths } from '../../src/config/paths.js';
import { openCgroupDriver } from '../../src/sandbox/cgroup/detect.js';
import { DEFAULT_SANDBOX_HOST_UID } from '../../src/engine/open-engine.js';

/** Process names that belong to sandboxes; none may outlive a test. */
const SANDBOX_COMMS = new Set(['bwrap', 'runner-agent', 'runner-launch']);

export interface Leftovers {
  cgroups: string[];
  processes: string[];
  /** Host mounts that mention an image or bwrap (sandbox mounts live in their own namespace). */
  mounts: string[];
}

function processes(): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const comm = /^Name:\s+(.*)$/m.exec(status)?.[1] ?? '';
      const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
      // A zombie has exited and left its cgroup; its new parent (init) reaps it on its own time.
      if (/^State:\s+Z/m.test(status)) continue;
      if (SANDBOX_COMMS.has(comm) || uid === DEFAULT_SANDBOX_HOST_UID) found.push(`${pid} ${comm} uid=${uid}`);
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
  return { cgroups: openCgroupDriver().list(), processes: processes(), mounts: mounts() };
}

export const NOTHING_LEFT: Leftovers = { cgroups: [], processes: [], mounts: [] };
