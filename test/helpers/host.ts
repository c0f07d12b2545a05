import { readFileSync, readdirSync } from 'node:fs';
import { openCgroupDriver } from '../../src/sandbox/cgroup/detect.js';
import { DEFAULT_SANDBOX_HOST_UID } from '../../src/engine/open-engine.js';

/** Process names that belong to sandboxes; none may outlive a test. */
const SANDBOX_COMMS = new Set(['bwrap', 'runner-agent', 'runner-launch']);

export interface Leftovers {
  cgroups: string[];
  processes: string[];
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

/** What sandboxes left behind on the host: cgroups and processes (host-side evidence, not program output). */
export function leftovers(): Leftovers {
  return { cgroups: openCgroupDriver().list(), processes: processes() };
}
