/**
 * Plan, then act: everything about one bwrap sandbox as plain data, turned into argv by a pure
 * function. Unit-testable without root; the backend only executes what the plan says.
 */

import { WORKDIR } from '../workdir.js';

/** Where the agent binary is mounted inside every image (the image builder creates the mount point). */
export const AGENT_PATH_IN_SANDBOX = '/.runner/runner-agent';
/** uid/gid the sandboxed code sees. On the host it runs as the sandbox's unprivileged `programUid`. */
export const SANDBOX_UID = 1000;
export const SANDBOX_GID = 1000;
/** The agent's uid/gid in the sandbox: root of the sandbox's own user namespace, `hostUid` on the host. */
export const AGENT_UID = 0;
/** The seccomp filter arrives on this fd (the launcher keeps fds 0-3 open). */
export const SECCOMP_FD = 3;
/** runner-launch hands bwrap the sandbox's user namespace on this fd. */
export const USERNS_FD = 4;
/**
 * SECURITY: the agent's only capabilities, held in the sandbox's user namespace (nothing on the
 * host): to run files and stages as the program's uid, to kill what a stage leaves behind, and to
 * give the program its working directory. The program has none.
 */
export const AGENT_CAPS: readonly string[] = ['CAP_SETUID', 'CAP_SETGID', 'CAP_KILL', 'CAP_CHOWN'];

export interface BwrapPlan {
  rootfs: string;
  agentBinary: string;
  /** Size of each writable tmpfs (WRITABLE_MOUNTS: /work, /tmp, /dev/shm). */
  tmpfsBytes: number;
  hostname: string;
  /** /proc files hidden behind an unreadable node and /proc directories behind an empty read-only tmpfs. */
  procMasks?: ProcMasks;
  /**
   * The launch mount namespace's /dev is the sandbox's (the fork server's, agent/src/sandbox-dev.c:
   * DEV_NODES, DEV_LINKS and /dev/shm's mount point, read-only) and is bound whole; runner-launch
   * must then be given --require-sandbox-dev. Else bwrap builds /dev itself.
   */
  launchNamespaceDev?: boolean;
}

export interface ProcMasks {
  files: readonly string[];
  dirs: readonly string[];
}

/**
 * SECURITY: what the sandbox's own /proc would still tell about the host: kernel command line and
 * config, symbol addresses, the host's boot id (a machine identity), timers and scheduler state of
 * host processes, keys, and hardware and filesystem details. Docker masks a similar list. The
 * backend keeps only the entries this kernel has (bwrap cannot mount over a missing path).
 */
export const PROC_MASKS: ProcMasks = {
  files: [
    '/proc/cmdline', '/proc/config.gz', '/proc/kallsyms', '/proc/kcore', '/proc/keys', '/proc/key-users',
    '/proc/latency_stats', '/proc/sched_debug', '/proc/sysrq-trigger', '/proc/timer_list', '/proc/timer_stats',
    '/proc/sys/kernel/random/boot_id',
  ],
  dirs: ['/proc/acpi', '/proc/asound', '/proc/bus', '/proc/driver', '/proc/fs', '/proc/irq', '/proc/scsi'],
};

/**
 * SECURITY: the only writable places in a sandbox, each a tmpfs capped at the plan's `tmpfsBytes`
 * (and charged to the sandbox's memory limit). Everything else is read-only or not a directory.
 */
export const WRITABLE_MOUNTS: readonly { path: string; mode: string }[] = [
  { path: '/tmp', mode: '1777' },
  { path: '/dev/shm', mode: '1777' },
  { path: WORKDIR, mode: '0755' },
];

/**
 * SECURITY: /dev is built here instead of with bwrap's `--dev`, whose tmpfs is writable and sized at
 * half the host's RAM. Ours is a small tmpfs holding the character devices bwrap would bind from the
 * host, the fd links and the /dev/shm mount point, then remounted read-only. No /dev/pts or
 * /dev/ptmx: every devpts instance draws on the host-wide kernel.pty.max pool, and bwrap cannot cap
 * one. /dev/tty stays for programs that probe it (without a controlling terminal it gives ENXIO).
 */
export const DEV_NODES: readonly string[] = ['/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom', '/dev/tty'];
const DEV_LINKS: readonly [target: string, link: string][] = [
  ['/proc/self/fd', '/dev/fd'],
  ['/proc/self/fd/0', '/dev/stdin'],
  ['/proc/self/fd/1', '/dev/stdout'],
  ['/proc/self/fd/2', '/dev/stderr'],
];
/** The /dev tmpfs only holds mount points and links before it turns read-only (sandbox-dev.h: SANDBOX_DEV_BYTES). */
const DEV_TMPFS_BYTES = 64 * 1024;

/**
 * The prepared /dev is one read-only mount (bwrap reads the mount table once for it and remounts
 * nothing); built here it is a tmpfs, a bind and a remount per node, and a remount of the whole
 * (seven mount-table reads, fourteen mount calls, six more mounts in every later read).
 */
function devArgs(launchNamespaceDev: boolean): string[] {
  if (launchNamespaceDev) return ['--dev-bind', '/dev', '/dev'];
  return [
    '--size', String(DEV_TMPFS_BYTES), '--perms', '0755', '--tmpfs', '/dev',
    ...DEV_NODES.flatMap((node) => ['--dev-bind', node, node]),
    ...DEV_LINKS.flatMap(([target, link]) => ['--symlink', target, link]),
  ];
}

/** Environment of the agent itself; each stage gets its own env from the job. */
const AGENT_ENV: readonly [string, string][] = [
  ['PATH', '/usr/local/bin:/usr/bin:/bin'],
  ['LANG', 'C.UTF-8'],
];

export function bwrapArgs(plan: BwrapPlan): string[] {
  const size = String(plan.tmpfsBytes);
  return [
    // SECURITY: new namespaces for everything; the net namespace has only a down-then-up loopback,
    // so nothing (not the host's loopback either) is reachable. The user namespace is the
    // launcher's: agent (uid 0 here) and program (uid 1000) are two different host uids, and no
    // nested user namespace can be made in it (the launcher sets its limit to 0; seccomp also
    // refuses unshare/clone with CLONE_NEW*).
    '--userns', String(USERNS_FD), '--uid', String(AGENT_UID), '--gid', String(AGENT_UID),
    '--unshare-pid', '--unshare-net', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup',
    '--hostname', plan.hostname,
    // The agent is PID 1: it reaps orphans and can kill(-1) everything left after a stage.
    '--as-pid-1',
    // SECURITY: the agent dies with bwrap's first process, and the whole pid namespace with it:
    // how a server kills a sandbox on cgroup v1, where it has no freezer cgroup (stopProcess).
    '--die-with-parent',
    // SECURITY: setsid() so sandboxed code cannot push input into a controlling terminal (TIOCSTI).
    '--new-session',
    // SECURITY: the image is the read-only root; writable places are size-capped tmpfs only.
    '--ro-bind', plan.rootfs, '/',
    '--ro-bind', plan.agentBinary, AGENT_PATH_IN_SANDBOX,
    '--proc', '/proc',
    // /dev/null mounted nodev: opening a masked file fails with EACCES.
    ...(plan.procMasks?.files ?? []).flatMap((file) => ['--ro-bind', '/dev/null', file]),
    ...(plan.procMasks?.dirs ?? []).flatMap((dir) => ['--size', '4096', '--tmpfs', dir, '--remount-ro', dir]),
    ...devArgs(plan.launchNamespaceDev ?? false),
    ...WRITABLE_MOUNTS.flatMap(({ path, mode }) => ['--size', size, '--perms', mode, '--tmpfs', path]),
    // After /dev/shm is mounted on it: the /dev tmpfs itself (not its submounts) turns read-only
    // (the prepared one already is).
    ...(plan.launchNamespaceDev ? [] : ['--remount-ro', '/dev']),
    '--chdir', WORKDIR,
    // SECURITY: never the host's environment.
    '--clearenv',
    ...AGENT_ENV.flatMap(([name, value]) => ['--setenv', name, value]),
    '--cap-drop', 'ALL', ...AGENT_CAPS.flatMap((cap) => ['--cap-add', cap]),
    '--seccomp', String(SECCOMP_FD),
    '--',
    AGENT_PATH_IN_SANDBOX, '--program-id', String(SANDBOX_UID),
  ];
}
