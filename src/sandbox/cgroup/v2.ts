import { existsSync, mkdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCodes, SandboxError } from '../../errors.js';
import { sameLimits, type Cgroup, type CgroupDriver, type CgroupLimits, type CgroupSetting, type CgroupStats } from './types.js';
import { listDirs, readControl, readKeyedCounters, readPids, writeControl } from './fs.js';
import { CgroupRemovals } from './removals.js';

const CPU_PERIOD_US = 100_000;
const NEEDED = ['memory', 'pids', 'cpu'] as const;

/** cgroup v2 (unified): one directory per sandbox under `<mount>/<parent>/`. */
export class CgroupV2Driver implements CgroupDriver {
  readonly version = 2 as const;
  readonly parent: string;
  readonly #mount: string;
  readonly #parentDir: string;
  readonly #removals = new CgroupRemovals();
  #prepared = false;
  /** Whether the kernel has swap accounting (memory.swap.max): the same for every cgroup, so probed once. */
  #swap: boolean | undefined;

  constructor(mount: string, parent: string) {
    this.#mount = mount;
    this.parent = parent;
    this.#parentDir = join(mount, parent);
  }

  /** Creates the parent and enables the controllers in every ancestor (once, on first use). */
  #prepare(): void {
    if (this.#prepared) return;
    try {
      mkdirSync(this.#parentDir, { recursive: true });
    } catch (cause) {
      throw new SandboxError(ErrorCodes.CGROUP, `cannot create cgroup v2 parent ${this.#parentDir}`, { cause });
    }
    enableControllers(this.#mount, this.parent);
    this.#prepared = true;
  }

  create(name: string, limits: CgroupLimits): Cgroup {
    this.#prepare();
    const dir = join(this.#parentDir, name);
    try {
      mkdirSync(dir);
    } catch (cause) {
      throw new SandboxError(ErrorCodes.CGROUP, `cannot create cgroup ${dir}`, { cause });
    }
    try {
      this.#swap ??= existsSync(join(dir, 'memory.swap.max'));
      const cgroup = new CgroupV2(name, dir, this.#swap, () => this.remove(name));
      cgroup.setLimits(limits);
      return cgroup;
    } catch (err) {
      // Nothing has joined it yet: the directory is empty, and may not stay behind.
      try {
        rmdirSync(dir);
      } catch {
        // gone already
      }
      throw err;
    }
  }

  /** The sandbox cgroups under our parent, and those still being removed. */
  list(): string[] {
    return [...new Set([...listDirs(this.#parentDir), ...this.#removals.names()])];
  }

  remove(name: string): Promise<void> {
    const dir = join(this.#parentDir, name);
    return this.#removals.remove(name, { kill: async () => kill(dir), dirs: () => [dir] });
  }

  settle(timeoutMs: number): Promise<string[]> {
    return this.#removals.settle(timeoutMs);
  }
}

/** Kills every task in a cgroup (nothing when it is gone). */
function kill(dir: string): void {
  if (!existsSync(dir)) return;
  if (existsSync(join(dir, 'cgroup.kill'))) {
    writeControl(join(dir, 'cgroup.kill'), 1);
    return;
  }
  // Kernels before 5.14 lack cgroup.kill: freeze, kill each task, thaw.
  writeControl(join(dir, 'cgroup.freeze'), 1);
  for (const pid of readPids(join(dir, 'cgroup.procs'))) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  writeControl(join(dir, 'cgroup.freeze'), 0);
}

function enableControllers(mount: string, parent: string): void {
  const parts = parent.split('/').filter(Boolean);
  for (let depth = 0; depth < parts.length; depth++) {
    const dir = join(mount, ...parts.slice(0, depth));
    const enabled = (readControl(join(dir, 'cgroup.subtree_control')) ?? '').split(/\s+/);
    const available = (readControl(join(dir, 'cgroup.controllers')) ?? '').split(/\s+/);
    const missing = NEEDED.filter((c) => !enabled.includes(c));
    for (const controller of missing) {
      if (!available.includes(controller)) {
        throw new SandboxError(ErrorCodes.HOST_DEPENDENCY, `cgroup v2 controller '${controller}' is not available in ${dir}`);
      }
    }
    if (missing.length > 0) writeControl(join(dir, 'cgroup.subtree_control'), missing.map((c) => `+${c}`).join(' '));
  }
}

class CgroupV2 implements Cgroup {
  readonly name: string;
  /** cgroup.kill is one write, whoever else could kill: v2 always kills (CgroupOptions.killAll). */
  readonly killsAll = true;
  readonly procsFiles: readonly string[];
  readonly #dir: string;
  readonly #swap: boolean;
  readonly #remove: () => Promise<void>;
  #destroyed: Promise<void> | undefined;
  #limits: CgroupLimits | undefined;
  /** What each control file was last set to. */
  readonly #written = new Map<string, string>();

  constructor(name: string, dir: string, swap: boolean, remove: () => Promise<void>) {
    this.name = name;
    this.#dir = dir;
    this.#swap = swap;
    this.#remove = remove;
    this.procsFiles = [join(dir, 'cgroup.procs')];
  }

  setLimits(limits: CgroupLimits): void {
    // SECURITY: only the host writes these files (a sandbox has no cgroupfs), so the values last
    // written are the values in force: a take with the pool's own limits writes nothing.
    if (this.#limits && sameLimits(this.#limits, limits)) return;
    this.#limits = limits;
    try {
      for (const { file, value } of [...this.settings(), ...(this.#swap ? [{ file: 'memory.swap.max', value: '0' }] : [])]) {
        if (this.#written.get(file) === value) continue;
        writeControl(join(this.#dir, file), value);
        this.#written.set(file, value);
      }
    } catch (cause) {
      // A half-applied change: the next call writes every file again.
      this.#limits = undefined;
      this.#written.clear();
      throw new SandboxError(ErrorCodes.CGROUP, `cannot set limits on cgroup ${this.#dir}`, { cause });
    }
  }

  settings(): readonly CgroupSetting[] {
    const limits = this.#limits!;
    return [
      { file: 'memory.max', value: String(limits.memoryBytes) },
      { file: 'pids.max', value: String(limits.pids) },
      { file: 'cpu.max', value: `${Math.round(limits.cpus * CPU_PERIOD_US)} ${CPU_PERIOD_US}` },
    ];
  }

  stats(): CgroupStats {
    const peak = readControl(join(this.#dir, 'memory.peak'));
    return { memoryPeakBytes: peak === null ? null : Number(peak.trim()), memoryCurrentBytes: this.memoryCurrentBytes(), oomKills: this.oomKills() };
  }

  oomKills(): number {
    return readKeyedCounters(join(this.#dir, 'memory.events')).get('oom_kill') ?? 0;
  }

  memoryCurrentBytes(): number | null {
    const current = readControl(join(this.#dir, 'memory.current'));
    return current === null ? null : Number(current.trim());
  }

  destroy(): Promise<void> {
    this.#destroyed ??= this.#remove();
    return this.#destroyed;
  }
}
