import { existsSync, mkdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCodes, SandboxError } from '../../errors.js';
import { sameLimits, type Cgroup, type CgroupDriver, type CgroupLimits, type CgroupOptions, type CgroupSetting, type CgroupStats } from './types.js';
import { listDirs, readControl, readKeyedCounters, readPids, removeCgroupDir, writeControl } from './fs.js';
import { CgroupRemovals } from './removals.js';

/** Controllers a sandbox joins on v1. The freezer makes kill-all race-free (v1 has no cgroup.kill). */
const CONTROLLERS = ['memory', 'pids', 'cpu', 'freezer'] as const;
type Controller = (typeof CONTROLLERS)[number];
/** Those that limit: all a sandbox joins when its maker kills its processes (CgroupOptions.killAll false). */
const LIMITING: readonly Controller[] = ['memory', 'pids', 'cpu'];

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

  create(name: string, limits: CgroupLimits, options: CgroupOptions = {}): Cgroup {
    // The freezer only serves the kill: a cgroup whose processes its maker kills does without it.
    const controllers = options.killAll === false ? LIMITING : CONTROLLERS;
    try {
      for (const controller of controllers) mkdirSync(this.#dir(controller, name), { recursive: true });
      const memory = this.#dir('memory', name);
      this.#files ??= { memsw: existsSync(join(memory, 'memory.memsw.limit_in_bytes')), tcp: existsSync(join(memory, 'memory.kmem.tcp.limit_in_bytes')) };
      const killsAll = controllers.includes('freezer');
      const cgroup = new CgroupV1(name, controllers, (c) => this.#dir(c, name), this.#files, () => (killsAll ? this.remove(name) : this.#removeEmptied(name, controllers)));
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

  /**
   * Names of the sandbox cgroups (every one has a memory directory; a set-up that failed removed
   * its own) and those still being removed in the background. Read on every sandbox start (host
   * uids): one hierarchy, not four.
   */
  list(): string[] {
    return [...new Set([...listDirs(join(this.#mount, 'memory', this.parent)), ...this.#removals.names()])];
  }

  /** Kills and removes a cgroup: through its freezer, or for one without (a dead engine's bwrap sandbox) pid by pid. */
  remove(name: string): Promise<void> {
    return this.#removals.remove(name, { kill: () => this.#kill(name), dirs: () => CONTROLLERS.map((controller) => this.#dir(controller, name)) });
  }

  settle(timeoutMs: number): Promise<string[]> {
    return this.#removals.settle(timeoutMs);
  }

  async #kill(name: string): Promise<void> {
    const freezer = this.#dir('freezer', name);
    if (existsSync(freezer)) {
      // Freeze so nothing can fork while we kill, then kill every task, then thaw so they die.
      writeControl(join(freezer, 'freezer.state'), 'FROZEN');
      await waitFor(() => readControl(join(freezer, 'freezer.state'))?.trim() !== 'FREEZING');
      killEach(join(freezer, 'cgroup.procs'));
      writeControl(join(freezer, 'freezer.state'), 'THAWED');
    } else {
      // A bwrap sandbox's cgroup (no freezer) keeps processes after its bwrap died only where the
      // fork server was gone too (with its engine, or killed): a child bwrap started before it had
      // its parent-death signal, still in bwrap's set-up (no user code). Killed pid by pid until
      // none is left; unlike the freezer's, this pass is not proof against pid reuse
      // (docs/security.md, "Killing a sandbox").
      const procs = join(this.#dir('memory', name), 'cgroup.procs');
      await waitFor(() => killEach(procs) === 0, 2000);
    }
  }

  /**
   * A cgroup whose maker killed its processes: removed once they have left. One still busy after
   * the wait held processes the kill could not reach (the fork server died while the sandbox's
   * bwrap was starting): killed as a dead engine's are (remove).
   */
  async #removeEmptied(name: string, controllers: readonly Controller[]): Promise<void> {
    try {
      // Its killed tasks leave every hierarchy at once (one css_set), so one directory's rmdir tells
      // when all can go: the pids one, an empty cgroup's cheapest, takes the retries while they are
      // still exiting (each an EBUSY and a thread-pool round trip), then the others go in one pass.
      const [first, ...rest] = [...controllers].sort((a, b) => Number(b === 'pids') - Number(a === 'pids'));
      await removeCgroupDir(this.#dir(first!, name));
      await Promise.all(rest.map((controller) => removeCgroupDir(this.#dir(controller, name))));
    } catch {
      await this.remove(name);
    }
  }
}

/** SIGKILLs every pid listed in a cgroup.procs file; returns how many were listed. */
function killEach(procsFile: string): number {
  const pids = readPids(procsFile);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  return pids.length;
}

/** The optional memory files of a v1 hierarchy: memsw only with swap accounting, tcp on kernels that still have it. */
interface V1MemoryFiles {
  memsw: boolean;
  tcp: boolean;
}

class CgroupV1 implements Cgroup {
  readonly name: string;
  readonly killsAll: boolean;
  readonly procsFiles: readonly string[];
  readonly #dir: (controller: Controller) => string;
  readonly #files: V1MemoryFiles;
  readonly #remove: () => Promise<void>;
  #destroyed: Promise<void> | undefined;
  #limits: CgroupLimits | undefined;
  /** Until the first setLimits: the directories were just made, so memory limits are the kernel's unlimited default. */
  #fresh = true;

  constructor(name: string, controllers: readonly Controller[], dir: (controller: Controller) => string, files: V1MemoryFiles, remove: () => Promise<void>) {
    this.name = name;
    this.killsAll = controllers.includes('freezer');
    this.#dir = dir;
    this.#files = files;
    this.#remove = remove;
    this.procsFiles = controllers.map((c) => join(dir(c), 'cgroup.procs'));
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
        // (A fresh cgroup's limits are unlimited; after a half-applied change the file says what holds.)
        const current = previous?.memoryBytes ?? (this.#fresh ? Infinity : Number(readControl(limit)));
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
      this.#fresh = false;
      // A half-applied change: the next call writes every file again.
      this.#limits = undefined;
      throw new SandboxError(ErrorCodes.CGROUP, `cannot set limits on cgroup ${this.name}`, { cause });
    }
    this.#fresh = false;
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
      ...(this.killsAll ? [{ file: 'freezer.state', value: 'THAWED' }] : []),
    ];
  }

  stats(): CgroupStats {
    const peak = readControl(join(this.#dir('memory'), 'memory.max_usage_in_bytes'));
    return { memoryPeakBytes: peak === null ? null : Number(peak.trim()), memoryCurrentBytes: this.memoryCurrentBytes(), oomKills: this.oomKills() };
  }

  oomKills(): number {
    return readKeyedCounters(join(this.#dir('memory'), 'memory.oom_control')).get('oom_kill') ?? 0;
  }

  memoryCurrentBytes(): number | null {
    const current = readControl(join(this.#dir('memory'), 'memory.usage_in_bytes'));
    return current === null ? null : Number(current.trim());
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
