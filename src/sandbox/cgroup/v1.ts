import { existsSync, mkdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCodes, SandboxError } from '../../errors.js';
import { sameLimits, type Cgroup, type CgroupDriver, type CgroupLimits, type CgroupSetting, type CgroupStats } from './types.js';
import { listDirs, readControl, readKeyedCounters, readPids, writeControl } from './fs.js';
import { CgroupRemovals } from './removals.js';

/** Controllers a sandbox joins on v1. The freezer makes kill-all race-free (v1 has no cgroup.kill). */
const CONTROLLERS = ['memory', 'pids', 'cpu', 'freezer'] as const;
type Controller = (typeof CONTROLLERS)[number];

const CFS_PERIOD_US = 100_000;

/** cgroup v1 (and hybrid hosts): one directory per controller under `<mount>/<controller>/<parent>/`. */
export class CgroupV1Driver implements CgroupDriver {
  readonly version = 1 as const;
  readonly parent: string;
  readonly #mount: string;
  readonly #removals = new CgroupRemovals();

  constructor(mount: string, parent: string) {
    this.#mount = mount;
    this.parent = parent;
    for (const controller of CONTROLLERS) {
      if (!existsSync(join(mount, controller))) {
        throw new SandboxError(ErrorCodes.HOST_DEPENDENCY, `cgroup v1 controller '${controller}' is not mounted at ${join(mount, controller)}`);
      }
    }
  }

  /** Which optional memory files this kernel has: the same for every cgroup of the hierarchy, so probed once. */
  #files: V1MemoryFiles | undefined;

  #dir(controller: Controller, name: string): string {
    return join(this.#mount, controller, this.parent, name);
  }

  create(name: string, limits: CgroupLimits): Cgroup {
    try {
      for (const controller of CONTROLLERS) mkdirSync(this.#dir(controller, name), { recursive: true });
      const memory = this.#dir('memory', name);
      this.#files ??= { memsw: existsSync(join(memory, 'memory.memsw.limit_in_bytes')), tcp: existsSync(join(memory, 'memory.kmem.tcp.limit_in_bytes')) };
      const cgroup = new CgroupV1(name, (c) => this.#dir(c, name), this.#files, () => this.remove(name));
      cgroup.setLimits(limits);
      return cgroup;
    } catch (cause) {
      // Nothing has joined it yet: its directories are empty, and none may stay behind.
      for (const controller of CONTROLLERS) {
        try {
          rmdirSync(this.#dir(controller, name));
        } catch {
          // never made, or gone
        }
      }
      if (cause instanceof SandboxError) throw cause;
      throw new SandboxError(ErrorCodes.CGROUP, `cannot create cgroup ${name}`, { cause });
    }
  }

  /** Every hierarchy's names (one left in a single hierarchy still counts) and those still being removed. */
  list(): string[] {
    const names = new Set(this.#removals.names());
    for (const controller of CONTROLLERS) for (const name of listDirs(join(this.#mount, controller, this.parent))) names.add(name);
    return [...names];
  }

  remove(name: string): Promise<void> {
    return this.#removals.remove(name, { kill: () => this.#kill(name), dirs: () => CONTROLLERS.map((controller) => this.#dir(controller, name)) });
  }

  settle(timeoutMs: number): Promise<string[]> {
    return this.#removals.settle(timeoutMs);
  }

  async #kill(name: string): Promise<void> {
    const freezer = this.#dir('freezer', name);
    if (!existsSync(freezer)) return;
    // Freeze so nothing can fork while we kill, then kill every task, then thaw so they die.
    writeControl(join(freezer, 'freezer.state'), 'FROZEN');
    await waitFor(() => readControl(join(freezer, 'freezer.state'))?.trim() !== 'FREEZING');
    for (const pid of readPids(join(freezer, 'cgroup.procs'))) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    writeControl(join(freezer, 'freezer.state'), 'THAWED');
  }
}

/** The optional memory files of a v1 hierarchy: memsw only with swap accounting, tcp on kernels that still have it. */
interface V1MemoryFiles {
  memsw: boolean;
  tcp: boolean;
}

class CgroupV1 implements Cgroup {
  readonly name: string;
  readonly procsFiles: readonly string[];
  readonly #dir: (controller: Controller) => string;
  readonly #files: V1MemoryFiles;
  readonly #remove: () => Promise<void>;
  #destroyed: Promise<void> | undefined;
  #limits: CgroupLimits | undefined;

  constructor(name: string, dir: (controller: Controller) => string, files: V1MemoryFiles, remove: () => Promise<void>) {
    this.name = name;
    this.#dir = dir;
    this.#files = files;
    this.#remove = remove;
    this.procsFiles = CONTROLLERS.map((c) => join(dir(c), 'cgroup.procs'));
  }

  setLimits(limits: CgroupLimits): void {
    const previous = this.#limits;
    // SECURITY: only the host writes these files (a sandbox has no cgroupfs), so the values last
    // written are the values in force: a take with the pool's own limits writes nothing.
    if (previous && sameLimits(previous, limits)) return;
    const memory = this.#dir('memory');
    try {
      if (previous?.memoryBytes !== limits.memoryBytes) {
        // memsw (memory + swap, only with swap accounting) must stay >= limit_in_bytes at every step:
        // when raising a live limit (warm pool), raise memsw first; when lowering, lower the limit first.
        const memsw = join(memory, 'memory.memsw.limit_in_bytes');
        const limit = join(memory, 'memory.limit_in_bytes');
        const current = previous?.memoryBytes ?? Number(readControl(limit));
        const order = current < limits.memoryBytes ? [memsw, limit] : [limit, memsw];
        for (const file of order) if (file === limit || this.#files.memsw) writeControl(file, limits.memoryBytes);
        // SECURITY: cgroup v1 does not charge TCP buffers to memory.limit_in_bytes; they count against
        // the host-wide tcp_mem pool instead. A limit of their own (set before any socket exists)
        // bounds them per sandbox. cgroup v2 charges them to memory.max.
        if (this.#files.tcp) writeControl(join(memory, 'memory.kmem.tcp.limit_in_bytes'), limits.memoryBytes);
      }
      if (!previous) {
        writeControl(join(memory, 'memory.swappiness'), 0);
        writeControl(join(this.#dir('cpu'), 'cpu.cfs_period_us'), CFS_PERIOD_US);
      }
      if (previous?.pids !== limits.pids) writeControl(join(this.#dir('pids'), 'pids.max'), limits.pids);
      if (previous?.cpus !== limits.cpus) writeControl(join(this.#dir('cpu'), 'cpu.cfs_quota_us'), Math.round(limits.cpus * CFS_PERIOD_US));
    } catch (cause) {
      // A half-applied change: the next call writes every file again.
      this.#limits = undefined;
      throw new SandboxError(ErrorCodes.CGROUP, `cannot set limits on cgroup ${this.name}`, { cause });
    }
    this.#limits = limits;
  }

  settings(): readonly CgroupSetting[] {
    const limits = this.#limits!;
    // Not memory.limit_in_bytes: a writer that first copies the parent's value (the jailer does)
    // would briefly set it above memory.memsw.limit_in_bytes, which the kernel refuses.
    return [
      { file: 'memory.swappiness', value: '0' },
      { file: 'pids.max', value: String(limits.pids) },
      { file: 'cpu.cfs_quota_us', value: String(Math.round(limits.cpus * CFS_PERIOD_US)) },
      { file: 'freezer.state', value: 'THAWED' },
    ];
  }

  stats(): CgroupStats {
    const memory = this.#dir('memory');
    const peak = readControl(join(memory, 'memory.max_usage_in_bytes'));
    const current = readControl(join(memory, 'memory.usage_in_bytes'));
    return {
      memoryPeakBytes: peak === null ? null : Number(peak.trim()),
      memoryCurrentBytes: current === null ? null : Number(current.trim()),
      oomKills: readKeyedCounters(join(memory, 'memory.oom_control')).get('oom_kill') ?? 0,
    };
  }

  destroy(): Promise<void> {
    this.#destroyed ??= this.#remove();
    return this.#destroyed;
  }
}

async function waitFor(done: () => boolean, timeoutMs = 1000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done() && Date.now() < deadline) await sleep(1);
}
