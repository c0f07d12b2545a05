/**
 * What a sandbox enforces: the backends apply these (cgroup, rlimits, tmpfs sizes, timeouts); the
 * engine resolves a request into them (engine/limits.ts).
 */

/** Every limit one execution runs under. All sizes in bytes, times in ms. */
export interface Limits {
  runTimeoutMs: number;
  compileTimeoutMs: number;
  memoryBytes: number;
  pids: number;
  /** Cap for each of stdout and stderr, per stage. */
  outputBytes: number;
  nofile: number;
  /** Largest file a program may write (RLIMIT_FSIZE). */
  fileSizeBytes: number;
  stackBytes: number;
  /** Size of the /work and /tmp tmpfs mounts (each). */
  diskBytes: number;
  /** CPU share as a number of CPUs (cgroup quota). */
  cpus: number;
}
