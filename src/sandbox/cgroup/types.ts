/** Limits a sandbox cgroup enforces. */
export interface CgroupLimits {
  memoryBytes: number;
  pids: number;
  /** CPU quota as a number of CPUs (e.g. 1 = one full core). */
  cpus: number;
}

/** Whether two limits hold the same values (applying the second after the first writes nothing). */
export function sameLimits(a: CgroupLimits, b: CgroupLimits): boolean {
  return a.memoryBytes === b.memoryBytes && a.pids === b.pids && a.cpus === b.cpus;
}

/** Usage read back after (or during) an execution. */
export interface CgroupStats {
  /** Peak memory of the whole sandbox, or null when the kernel does not report it. */
  memoryPeakBytes: number | null;
  /** Memory charged to the sandbox now (processes, tmpfs, kernel objects). */
  memoryCurrentBytes: number | null;
  /** How many processes the OOM killer killed in this cgroup. */
  oomKills: number;
}

/** A control file of a cgroup (`pids.max`) and the value it holds. */
export interface CgroupSetting {
  file: string;
  value: string;
}

/** How a sandbox's cgroup is made. */
export interface CgroupOptions {
  /**
   * Whether destroy() must kill the cgroup's processes itself (the default). False when the
   * sandbox's maker kills them race-free another way (bwrap's pid namespace, ProcessBackend): on
   * v1 the cgroup then joins no freezer hierarchy, whose only use is that kill. v2 kills with
   * cgroup.kill either way.
   */
  killAll?: boolean;
}

/** One sandbox's cgroup (a directory per controller on v1, one directory on v2). */
export interface Cgroup {
  readonly name: string;
  /**
   * Whether destroy() kills every process in the cgroup. When false, the caller kills them first;
   * destroy() removes the cgroup once the killed tasks have left, and only kills what is still in
   * it after that wait (a kill that missed), pid by pid, without a freezer's guarantee.
   */
  readonly killsAll: boolean;
  /** Files a launcher writes its pid into to join the cgroup before it execs untrusted code. */
  readonly procsFiles: readonly string[];
  /**
   * One limit file per hierarchy the sandbox joins, with the value this cgroup already holds (as
   * `controller.property`: no further dots). A launcher that writes these and joins each file's
   * directory — Firecracker's jailer with `--cgroup` — lands in this cgroup with its limits unchanged.
   */
  settings(): readonly CgroupSetting[];
  /** Applies limits; valid while processes run (used by the warm pool). */
  setLimits(limits: CgroupLimits): void;
  stats(): CgroupStats;
  /** CgroupStats.oomKills alone: one control file read, not three (read after every execution). */
  oomKills(): number;
  /** CgroupStats.memoryCurrentBytes alone: one control file read (the warm pool's budget reads it per refill). */
  memoryCurrentBytes(): number | null;
  /**
   * Kills every process in the cgroup (see killsAll) and removes it. Idempotent. One whose killed
   * tasks have not all left within REMOVE_WAIT_MS is removed in the background (CgroupDriver.settle
   * waits for it).
   */
  destroy(): Promise<void>;
}

export interface CgroupDriver {
  readonly version: 1 | 2;
  /** The cgroup (a relative path, e.g. `runner-codes`) sandbox cgroups are created under. */
  readonly parent: string;
  /** Creates a cgroup for one sandbox, with limits applied. */
  create(name: string, limits: CgroupLimits, options?: CgroupOptions): Cgroup;
  /** Names of existing sandbox cgroups under our parent, and those still being removed (for host uids, stale clean-up and leak checks). */
  list(): string[];
  /** Kills and removes the named cgroup (used for stale ones left by a crashed process); as Cgroup.destroy. */
  remove(name: string): Promise<void>;
  /** Waits up to `timeoutMs` for the cgroups still being removed in the background; returns those left. */
  settle(timeoutMs: number): Promise<string[]>;
}
