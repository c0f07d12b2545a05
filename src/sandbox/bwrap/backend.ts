import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { ErrorCodes, SandboxError } from '../../errors.js';
import type { Backend, Sandbox, SandboxSpec } from '../backend.js';
import type { Cgroup, CgroupDriver } from '../cgroup/types.js';
import { ProcessSandbox } from '../process-sandbox.js';
import { syscallAbisOfImage } from '../../languages/lookup.js';
import { launchArgs } from '../launch.js';
import { bwrapArgs, PROC_MASKS, type ProcMasks } from './plan.js';
import { hostUidOf, sandboxName } from '../names.js';
import { HostIdAllocator, programUidOf, type HostIdRange } from '../host-ids.js';

export interface BwrapBackendOptions {
  bwrapPath: string;
  launcherPath: string;
  /** The filter that also admits the i386 ABI, for images whose languages declare it (`syscallAbis`). */
  seccompFilterI386Path: string;
  agentPath: string;
  seccompFilterPath: string;
  cgroups: CgroupDriver;
  /** Host uids (= gids) sandboxes run as, two of its own per live sandbox (agent, program); never 0. */
  hostIds: HostIdRange;
  /** How long the agent may take to say ready. */
  startTimeoutMs?: number;
}

/** bubblewrap backend: namespaces + cgroup + seccomp + rlimits, agent over the bwrap pipes. */
export class BwrapBackend implements Backend {
  readonly name = 'bwrap';
  /** The /tmp, /work and /dev/shm tmpfs sizes are bwrap arguments. */
  readonly fixedAtStart = ['diskBytes'] as const;
  readonly #options: Required<BwrapBackendOptions>;
  readonly #ids: HostIdAllocator;
  readonly #procMasks: ProcMasks;

  constructor(options: BwrapBackendOptions) {
    // SECURITY: the allocator refuses a range that includes uid 0 (and the launcher refuses 0 too).
    this.#ids = new HostIdAllocator(options.hostIds);
    this.#options = { startTimeoutMs: 10_000, ...options };
    this.#procMasks = { files: PROC_MASKS.files.filter((f) => existsSync(f)), dirs: PROC_MASKS.dirs.filter((d) => existsSync(d)) };
  }

  async start(spec: SandboxSpec): Promise<Sandbox> {
    const o = this.#options;
    const filter = this.#seccompFilter(spec.image);
    const uid = this.#ids.acquire(() => o.cgroups.list().map(hostUidOf));
    const name = sandboxName(process.pid, uid);
    let cgroup: Cgroup;
    try {
      cgroup = o.cgroups.create(name, spec.limits);
    } catch (err) {
      this.#ids.release(uid);
      throw err;
    }
    const release = (): void => this.#ids.release(uid);
    let seccompFd: number | undefined;
    let child: ChildProcess;
    try {
      // A fresh open file description per sandbox: bwrap reads the filter from the current offset.
      seccompFd = openSync(filter, 'r');
      const args = [
        ...launchArgs({ cgroupProcsFiles: cgroup.procsFiles, hostUid: uid, hostGid: uid, programUid: programUidOf(o.hostIds, uid) }),
        o.bwrapPath,
        ...bwrapArgs({ rootfs: spec.rootfs, agentBinary: o.agentPath, tmpfsBytes: spec.limits.diskBytes, hostname: 'sandbox', procMasks: this.#procMasks }),
      ];
      child = spawn(o.launcherPath, args, { stdio: ['pipe', 'pipe', 'pipe', seccompFd], env: {} });
    } catch (cause) {
      await cgroup.destroy().finally(release);
      throw new SandboxError(ErrorCodes.SANDBOX_START, `cannot start bwrap: ${(cause as Error).message}`, { cause });
    } finally {
      if (seccompFd !== undefined) closeSync(seccompFd);
    }
    const pipes = { fromAgent: child.stdout!, toAgent: child.stdin! };
    return new ProcessSandbox({
      id: name,
      kind: 'sandbox',
      child,
      output: [child.stderr!],
      cgroup,
      startTimeoutMs: o.startTimeoutMs,
      cgroupLimits: (limits) => limits,
      connect: async () => pipes,
      cleanup: async () => release(),
    });
  }

  /** SECURITY: the i386 ABI only for images whose languages declare it (the catalog's `syscallAbis`). */
  #seccompFilter(image: string): string {
    const { seccompFilterPath: x86_64, seccompFilterI386Path: i386 } = this.#options;
    if (!syscallAbisOfImage(image).includes('i386')) return x86_64;
    if (!existsSync(i386)) {
      throw new SandboxError(ErrorCodes.HOST_DEPENDENCY, `the seccomp filter with the i386 ABI, which image '${image}' needs, is not built (${i386})`, { hint: 'run `infra.operator setup` (as root)' });
    }
    return i386;
  }
}
