/**
 * A stand-in for Firecracker's `jailer` (v1.16.1), for hosts without KVM (ours): `node
 * fake-jailer.js [--record FILE] <jailer arguments>`, run as root. It parses and validates its
 * arguments by the jailer's rules (docs/jailer.md, src/jailer/src/env.rs) and does for real what
 * the jailer does on the host's side:
 *
 * - makes `<chroot-base>/<exec name>/<id>/root` (an existing one is fine) and copies the exec file in;
 * - finds each `--cgroup` controller's hierarchy in /proc/mounts, makes `<hierarchy>/<parent>/<id>`,
 *   copies the parent's value into it when v1 (the jailer's inherit_from_parent), writes the value,
 *   then joins every one of them (v1 `tasks`, v2 `cgroup.procs`);
 * - makes /dev, /dev/net and /run in the chroot, mknods /dev/kvm and /dev/net/tun, and hands the
 *   chroot, those directories and devices to `--uid:--gid` (chmod 0700);
 * - with `--new-pid-ns`, starts the exec file as the first process of a new PID namespace, writes
 *   `<exec name>.pid` and exits, leaving it running and orphaned; else it waits for it;
 * - runs the exec file as uid:gid with no supplementary groups and an empty environment, with
 *   `--id <id> --start-time-us N --start-time-cpu-us N --parent-cpu-time-us N` and the arguments
 *   after `--`.
 *
 * Either way it exits with the status of what it ran (the `unshare` around the orphan's start).
 *
 * What it cannot do without a real chroot (the exec file needs node and QEMU from the host): it
 * runs the copy in the chroot by its host path, cwd the chroot, and passes `--jail-root <chroot>`
 * first, so that the stand-in Firecracker resolves every path it is given inside the chroot, as a
 * jailed Firecracker would, and refuses one that leads out of it.
 *
 * Run without arguments (as `node --test` does with every file under test/) it does nothing.
 */
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface JailerArgs {
  id: string;
  execFile: string;
  uid: number;
  gid: number;
  chrootBase: string;
  cgroupVersion: 1 | 2;
  parentCgroup: string;
  cgroups: { file: string; value: string }[];
  newPidNs: boolean;
  daemonize: boolean;
  extra: string[];
}

const VALUED = new Set(['--id', '--exec-file', '--uid', '--gid', '--chroot-base-dir', '--cgroup-version', '--parent-cgroup', '--cgroup', '--netns', '--resource-limit', '--node']);
const FLAGS = new Set(['--daemonize', '--new-pid-ns']);
const MULTIPLE = new Set(['--cgroup', '--resource-limit']);

/** Parses and validates jailer arguments as the jailer does; throws the jailer's complaint. */
export function parseJailerArgs(argv: readonly string[]): JailerArgs {
  const single = new Map<string, string>();
  const multiple = new Map<string, string[]>();
  const flags = new Set<string>();
  let i = 0;
  for (; i < argv.length && argv[i] !== '--'; i++) {
    const arg = argv[i]!;
    if (FLAGS.has(arg)) {
      flags.add(arg);
    } else if (VALUED.has(arg)) {
      const value = argv[++i];
      if (value === undefined || value.startsWith('--')) throw new Error(`argument '${arg}' requires a value`);
      if (MULTIPLE.has(arg)) multiple.set(arg, [...(multiple.get(arg) ?? []), value]);
      else if (single.has(arg)) throw new Error(`argument '${arg}' was given more than once`);
      else single.set(arg, value);
    } else {
      throw new Error(`found argument '${arg}' which wasn't expected`);
    }
  }
  const required = (name: string): string => {
    const value = single.get(name);
    if (value === undefined) throw new Error(`missing argument: ${name}`);
    return value;
  };
  const id = required('--id');
  if (!/^[A-Za-z0-9-]{1,64}$/.test(id)) throw new Error(`invalid instance id: ${id}`);
  const execFile = realpathSync(required('--exec-file'));
  if (!statSync(execFile).isFile()) throw new Error(`${execFile} is not a file`);
  if (!basename(execFile).includes('firecracker')) throw new Error(`exec file name must contain 'firecracker': ${basename(execFile)}`);
  const id32 = (name: string): number => {
    const text = required(name);
    if (!/^\d+$/.test(text) || Number(text) > 0xffffffff) throw new Error(`invalid ${name}: ${text}`);
    return Number(text);
  };
  const chrootBase = realpathSync(single.get('--chroot-base-dir') ?? '/srv/jailer');
  if (!statSync(chrootBase).isDirectory()) throw new Error(`${chrootBase} is not a directory`);
  const version = single.get('--cgroup-version') ?? '1';
  if (version !== '1' && version !== '2') throw new Error(`invalid cgroup version: ${version}`);
  const parentCgroup = single.get('--parent-cgroup') ?? basename(execFile);
  if (parentCgroup.startsWith('/') || parentCgroup.split('/').some((part) => part === '.' || part === '..')) throw new Error(`invalid parent cgroup path: ${parentCgroup}`);
  const cgroups = (multiple.get('--cgroup') ?? []).map((cg) => {
    const parts = cg.split('=');
    if (parts.length !== 2 || parts[1] === '') throw new Error(`invalid cgroup format: ${cg}`);
    if (parts[0]!.split('.').length !== 2) throw new Error(`invalid cgroup file: ${parts[0]}`);
    return { file: parts[0]!, value: parts[1]! };
  });
  for (const limit of multiple.get('--resource-limit') ?? []) {
    const [name, value] = limit.split('=');
    if (!['fsize', 'no-file'].includes(name ?? '') || !/^\d+$/.test(value ?? '')) throw new Error(`invalid resource limit: ${limit}`);
  }
  return {
    id,
    execFile,
    uid: id32('--uid'),
    gid: id32('--gid'),
    chrootBase,
    cgroupVersion: Number(version) as 1 | 2,
    parentCgroup,
    cgroups,
    newPidNs: flags.has('--new-pid-ns'),
    daemonize: flags.has('--daemonize'),
    extra: i < argv.length ? argv.slice(i + 1) : [],
  };
}

/** The cgroup hierarchies of /proc/mounts, as the jailer finds them: v2's one, or v1's per controller. */
function hierarchyOf(version: 1 | 2, controller: string): string {
  for (const line of readFileSync('/proc/mounts', 'utf8').split('\n')) {
    const [, dir, type, options] = line.split(' ');
    if (version === 2 && type === 'cgroup2') return dir!;
    if (version === 1 && type === 'cgroup' && options!.split(',').includes(controller)) return dir!;
  }
  throw new Error(`cgroup controller ${controller} is not available`);
}

/** v1: a new cgroup's file may be empty; the jailer copies the first non-empty value from above. */
function inheritFromParent(dir: string, file: string, depth: number): void {
  const parent = join(dir, '..');
  let line = readFileSync(join(parent, file), 'utf8').split('\n')[0]!;
  if (line === '' && depth > 0) {
    inheritFromParent(parent, file, depth - 1);
    line = readFileSync(join(parent, file), 'utf8').split('\n')[0]!;
  }
  if (line === '') throw new Error(`cannot inherit ${file} into ${dir}`);
  writeFileSync(join(dir, file), line);
}

function enableInAncestors(dir: string, controller: string): void {
  if (!existsSync(join(dir, 'cgroup.subtree_control'))) return;
  enableInAncestors(join(dir, '..'), controller);
  writeFileSync(join(dir, 'cgroup.subtree_control'), `+${controller}`);
}

function joinCgroups(args: JailerArgs): string[] {
  const joined: string[] = [];
  const locations = args.cgroups.map(({ file, value }) => {
    const controller = file.split('.')[0]!;
    const location = join(hierarchyOf(args.cgroupVersion, controller), args.parentCgroup, args.id);
    mkdirSync(location, { recursive: true });
    if (args.cgroupVersion === 1) inheritFromParent(location, file, args.parentCgroup.split('/').length);
    else enableInAncestors(join(location, '..'), controller);
    writeFileSync(join(location, file), value);
    return location;
  });
  // All values first, then the joins (as the jailer: some values must precede any pid).
  for (const location of locations) {
    writeFileSync(join(location, args.cgroupVersion === 1 ? 'tasks' : 'cgroup.procs'), String(process.pid));
    joined.push(location);
  }
  return joined;
}

function buildChroot(args: JailerArgs): { root: string; exec: string } {
  const root = join(args.chrootBase, basename(args.execFile), args.id, 'root');
  mkdirSync(root, { recursive: true });
  const exec = join(root, basename(args.execFile));
  copyFileSync(args.execFile, exec);
  chmodSync(exec, statSync(args.execFile).mode & 0o7777);
  for (const dir of ['', 'dev', 'dev/net', 'run']) {
    mkdirSync(join(root, dir), { recursive: true });
    chmodSync(join(root, dir), 0o700);
    chownSync(join(root, dir), args.uid, args.gid);
  }
  for (const [dev, major, minor] of [['dev/net/tun', 10, 200], ['dev/kvm', 10, 232]] as const) {
    const made = spawnSync('mknod', ['-m', '600', join(root, dev), 'c', String(major), String(minor)]);
    if (made.status !== 0) throw new Error(`mknod ${dev}: ${made.stderr.toString().trim()}`);
    chownSync(join(root, dev), args.uid, args.gid);
  }
  return { root, exec };
}

function run(argv: readonly string[]): void {
  const recordAt = argv[0] === '--record' ? argv[1] : undefined;
  const args = parseJailerArgs(recordAt ? argv.slice(2) : argv);
  const cgroups = joinCgroups(args);
  const { root, exec } = buildChroot(args);
  const now = String(Math.floor(performance.timeOrigin * 1000));
  const firecracker = [exec, '--jail-root', root, '--id', args.id, '--start-time-us', now, '--start-time-cpu-us', '0', '--parent-cpu-time-us', '0', ...args.extra];
  const dropped = ['setpriv', `--reuid=${args.uid}`, `--regid=${args.gid}`, '--clear-groups', '--', ...firecracker];
  if (recordAt) appendFileSync(recordAt, JSON.stringify({ argv, cgroups, root }) + '\n');
  // As the jailer's clone(CLONE_NEWPID): Firecracker is the first process of the new namespace (the
  // shell after `unshare --pid` stays outside it), its pid goes to <exec>.pid, and everything else
  // exits, so Firecracker is orphaned — to be adopted by whoever is the subreaper above.
  const command = args.newPidNs ? ['unshare', '--pid', '--', 'sh', '-c', '"$@" & echo $! > "$0"', `${exec}.pid`, ...dropped] : dropped;
  const child = spawn(command[0]!, command.slice(1), { cwd: root, env: {}, stdio: 'inherit' });
  child.once('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv.length > 2) {
  try {
    run(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`jailer: ${(err as Error).message}\n`);
    process.exit(1);
  }
}
