import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_LIMITS } from '../../src/engine/limits.js';
import { prestartFrame } from '../../src/engine/prestart.js';
import { PRESTARTS } from '../../src/languages/catalog.js';
import { detectCgroupMode } from '../../src/sandbox/cgroup/detect.js';
import { ownerOf } from '../../src/sandbox/names.js';

/**
 * The host's view of sandboxed processes, read from the host's /proc: kernel-made files only,
 * never a path inside the sandbox's own file tree (which its code could fill with symlinks).
 */
export interface SandboxProcess {
  pid: number;
  /** The sandbox cgroup it is in (`rc-…`). */
  sandbox: string;
  comm: string;
  cmdline: string;
  state: string;
  /** real, effective, saved, filesystem */
  uids: number[];
  gids: number[];
  groups: number[];
  capEff: string;
  capPrm: string;
  capAmb: string;
  noNewPrivs: string;
  seccomp: string;
  tracerPid: number;
  /** `user:[4026531837]` etc., for user, pid, net, mnt, ipc, uts, cgroup */
  ns: Record<string, string>;
  /** Targets of the open descriptors (`anon_inode:[io_uring]`, `socket:[123]`, paths). */
  fds: string[];
  /** CPU time (user + system) in clock ticks. */
  cpuTicks: number;
}

const NAMESPACES = ['user', 'pid', 'net', 'mnt', 'ipc', 'uts', 'cgroup'];

function field(status: string, name: string): string {
  return new RegExp(`^${name}:[ \\t]*(.*)$`, 'm').exec(status)?.[1]?.trim() ?? '';
}

function ids(text: string): number[] {
  return text.split(/\s+/).filter(Boolean).map(Number);
}

function safeReadlink(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return '';
  }
}

function inspect(pid: number): SandboxProcess | undefined {
  try {
    // Membership by cgroup, not by uid: a process that had become root would still be found.
    const sandbox = /\/runner-codes\/(rc-[^/\n]+)/.exec(readFileSync(`/proc/${pid}/cgroup`, 'utf8'))?.[1];
    if (!sandbox) return undefined;
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const uids = ids(field(status, 'Uid'));
    // /proc/PID/stat: fields after the parenthesised comm; utime and stime are the 12th and 13th of those.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`).map((fd) => safeReadlink(`/proc/${pid}/fd/${fd}`));
    } catch {
      // exiting
    }
    return {
      pid,
      sandbox,
      comm: field(status, 'Name'),
      cmdline: readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim(),
      state: field(status, 'State').slice(0, 1),
      uids,
      gids: ids(field(status, 'Gid')),
      groups: ids(field(status, 'Groups')),
      capEff: field(status, 'CapEff'),
      capPrm: field(status, 'CapPrm'),
      capAmb: field(status, 'CapAmb'),
      noNewPrivs: field(status, 'NoNewPrivs'),
      seccomp: field(status, 'Seccomp'),
      tracerPid: Number(field(status, 'TracerPid')),
      ns: Object.fromEntries(NAMESPACES.map((ns) => [ns, safeReadlink(`/proc/${pid}/ns/${ns}`)])),
      fds,
      cpuTicks: Number(rest[11]) + Number(rest[12]),
    };
  } catch {
    return undefined; // ended while we looked
  }
}

/**
 * Every live process in a sandbox cgroup of this process (`everyOwner`: of any engine on the
 * host), whatever uid it runs as.
 */
export function sandboxProcesses(everyOwner = false): SandboxProcess[] {
  const found: SandboxProcess[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const info = inspect(Number(name));
    if (info && info.state !== 'Z' && (everyOwner || ownerOf(info.sandbox) === process.pid)) found.push(info);
  }
  return found;
}

/** The command lines of the pooled sandboxes' pre-started interpreters (docs/prestart.md). */
const PRESTARTED = PRESTARTS.map((spec) => prestartFrame(spec.language, DEFAULT_LIMITS)!.stages[0].argv.join(' ').trim());

/**
 * A pooled sandbox's interpreter still waiting for its program: its recipe's command line, and fd 3
 * (the hand-over socket, which it closes before any program runs) still open.
 */
function waitingInterpreter(p: SandboxProcess): boolean {
  return PRESTARTED.includes(p.cmdline) && safeReadlink(`/proc/${p.pid}/fd/3`).startsWith('socket:');
}

/** Processes of user code: not the launcher, bwrap, the agent or a waiting pre-started interpreter. */
export function userProcesses(): SandboxProcess[] {
  return sandboxProcesses().filter((p) => !['bwrap', 'runner-launch', 'runner-agent'].includes(p.comm) && !waitingInterpreter(p));
}

/**
 * Waits until a sandboxed process matches (hostile programs rename themselves to a marker once
 * their attempts are done, so the host knows when to look). Throws after `timeoutMs`.
 */
export async function waitForProcess(match: (p: SandboxProcess) => boolean, timeoutMs = 10_000): Promise<SandboxProcess> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const hit = sandboxProcesses().find(match);
    if (hit) return hit;
    await sleep(20);
  }
  throw new Error(`no sandboxed process matched within ${timeoutMs} ms`);
}

/** Samples the sandboxed processes every `everyMs` until stop(); returns every sample's processes. */
export function watchSandboxes(everyMs = 25): { stop(): SandboxProcess[][] } {
  const samples: SandboxProcess[][] = [];
  const timer = setInterval(() => samples.push(sandboxProcesses()), everyMs);
  return {
    stop() {
      clearInterval(timer);
      samples.push(sandboxProcesses());
      return samples;
    },
  };
}

/** The sandbox's PID 1 (the agent) that shares `p`'s pid namespace. */
export function agentOf(p: SandboxProcess): SandboxProcess | undefined {
  return sandboxProcesses().find((q) => q.comm === 'runner-agent' && q.ns.pid === p.ns.pid);
}

/** The host's mount table as seen from a sandboxed process (kernel-generated text). */
export function mountinfoOf(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/mountinfo`, 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

/** A network namespace's interfaces, routes and sockets as the host sees them through a process in it. */
export function netOf(pid: number): { interfaces: string[]; routes: string[]; raw: string[]; packet: string[] } {
  const lines = (file: string): string[] => {
    try {
      return readFileSync(`/proc/${pid}/net/${file}`, 'utf8').split('\n').slice(1).filter((l) => l.trim() !== '');
    } catch {
      return [];
    }
  };
  return {
    interfaces: lines('dev').slice(1).map((l) => l.split(':')[0]!.trim()),
    routes: [...lines('route'), ...lines('ipv6_route').filter((l) => !/ lo$/.test(l))],
    raw: [...lines('raw'), ...lines('raw6')],
    packet: lines('packet'),
  };
}

/**
 * A number from a sandbox's cgroup (v1: `controller/file`, v2: `file`), the value of line `key`
 * in keyed files (cpu.stat, pids.events), or null when the cgroup is gone.
 */
export function cgroupNumber(sandbox: string, v1: string, v2: string, key?: string): number | null {
  const [controller, file] = v1.split('/');
  const path = detectCgroupMode() === 'v2' ? `/sys/fs/cgroup/runner-codes/${sandbox}/${v2}` : `/sys/fs/cgroup/${controller}/runner-codes/${sandbox}/${file}`;
  try {
    const text = readFileSync(path, 'utf8');
    if (key === undefined) return Number(text.trim());
    const match = new RegExp(`^${key}\\s+(\\d+)`, 'm').exec(text);
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/** Waits until no user process of any sandbox is left (destruction runs after the reply). */
export async function settled(timeoutMs = 3000): Promise<SandboxProcess[]> {
  const deadline = Date.now() + timeoutMs;
  let left = userProcesses();
  while (left.length > 0 && Date.now() < deadline) {
    await sleep(25);
    left = userProcesses();
  }
  return left;
}
