import { readFileSync, readdirSync } from 'node:fs';

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
