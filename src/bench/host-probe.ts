import { readFileSync, readdirSync, statSync } from 'node:fs';

/** Host-side readings for the benchmark and the soak: processes, memory, fds, mounts. */

function statusField(pid: number, field: string): string | undefined {
  try {
    return new RegExp(`^${field}:\\s+(.*)$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

export function rssBytes(pid: number): number {
  return Number(/(\d+)/.exec(statusField(pid, 'VmRSS') ?? '0')?.[1] ?? 0) * 1024;
}

/** Proportional set size (shared pages split between sharers): the honest per-process memory. */
export function pssBytes(pid: number): number {
  try {
    return Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

/** Pages of `pid` no other process maps (Private_Clean + Private_Dirty): what it alone holds. */
export function privateBytes(pid: number): number {
  try {
    const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    return ['Private_Clean', 'Private_Dirty'].reduce((sum, f) => sum + Number(new RegExp(`^${f}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? 0), 0) * 1024;
  } catch {
    return 0;
  }
}

/**
 * How many live processes of the host run the same executable file as `pid` (itself included):
 * those its binary's pages are shared with, and PSS divides them by. stat() of /proc/PID/exe is
 * the kernel's link to the file itself, wherever (in whichever mount namespace) it is.
 */
export function exeSharers(pid: number): number {
  const idOf = (p: string): string | undefined => {
    try {
      const st = statSync(`/proc/${p}/exe`);
      return `${st.dev}:${st.ino}`;
    } catch {
      return undefined;
    }
  };
  const id = idOf(String(pid));
  if (id === undefined) return 0;
  return readdirSync('/proc').filter((name) => /^\d+$/.test(name) && idOf(name) === id).length;
}

export function openFds(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
}

/** Live descendants of `root` (not zombies), with their command names. */
export function descendants(root: number): { pid: number; comm: string }[] {
  const children = new Map<number, number[]>();
  const comms = new Map<number, string>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    const ppid = Number(statusField(pid, 'PPid') ?? NaN);
    const state = statusField(pid, 'State') ?? 'Z';
    if (state.startsWith('Z')) continue;
    comms.set(pid, statusField(pid, 'Name') ?? '?');
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid)!.push(pid);
  }
  const out: { pid: number; comm: string }[] = [];
  const stack = [...(children.get(root) ?? [])];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    if (comms.has(pid)) out.push({ pid, comm: comms.get(pid)! });
    stack.push(...(children.get(pid) ?? []));
  }
  return out;
}

export function hostMountCount(): number {
  return readFileSync('/proc/self/mounts', 'utf8').split('\n').filter(Boolean).length;
}

/**
 * The cgroup a process is in, as a path below its hierarchy's mount: the memory controller's on
 * cgroup v1 (hybrid hosts too), the unified one on v2; null when it is gone.
 */
export function memoryCgroupOf(pid: number): string | null {
  let lines: string[];
  try {
    lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n');
  } catch {
    return null;
  }
  const v1 = lines.find((line) => line.split(':')[1]?.split(',').includes('memory'));
  if (v1) return `memory${v1.slice(v1.indexOf(':', v1.indexOf(':') + 1) + 1)}`;
  const v2 = lines.find((line) => line.startsWith('0::'));
  return v2 ? v2.slice(3) : null;
}

/** Processes in a cgroup (a memoryCgroupOf() path), and the memory charged to it now (v1 or v2). */
export function cgroupMemory(path: string, mount = '/sys/fs/cgroup'): { pids: number[]; chargedBytes: number } {
  const dir = `${mount}/${path.replace(/^\/+/, '')}`;
  const read = (file: string): string | null => {
    try {
      return readFileSync(`${dir}/${file}`, 'utf8');
    } catch {
      return null;
    }
  };
  const pids = (read('cgroup.procs') ?? '').split('\n').filter(Boolean).map(Number);
  const charged = path.startsWith('memory/') ? read('memory.usage_in_bytes') : read('memory.current');
  return { pids, chargedBytes: Number(charged ?? 0) };
}

/**
 * Live processes of the host (wherever they were reparented) in a sandbox cgroup whose name says
 * `ownerPid` made it: one engine's sandboxes, and nothing of other engines on a shared host.
 */
export function sandboxProcessesOf(ownerPid: number, ownerOf: (name: string) => number | undefined): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    const cgroup = memoryCgroupOf(pid);
    if (!cgroup || ownerOf(cgroup.slice(cgroup.lastIndexOf('/') + 1)) !== ownerPid) continue;
    if (!(statusField(pid, 'State') ?? 'Z').startsWith('Z')) out.push(pid);
  }
  return out;
}
