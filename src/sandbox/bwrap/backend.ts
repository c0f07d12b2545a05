import { existsSync } from 'node:fs';
import { ErrorCodes, SandboxError } from '../../errors.js';
import { syscallAbisOfImage } from '../../languages/lookup.js';
import type { SandboxSpec } from '../backend.js';
import type { CgroupDriver } from '../cgroup/types.js';
import { programUidOf, type HostIdRange } from '../host-ids.js';
import { launchArgs } from '../launch.js';
import type { AgentStreams, LaunchedSandbox, SandboxSlot } from '../launched-sandbox.js';
import { ProcessBackend, type SandboxCommand } from '../process-backend.js';
import { bwrapArgs, PROC_MASKS, type ProcMasks } from './plan.js';

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
  /** runner-forkserver, to start sandboxes without forking the engine (servers); none: spawn each. */
  forkServerPath?: string;
}

/** What one bwrap sandbox starts with, decided before it takes a uid. */
interface BwrapStart {
  seccompFilter: string;
  rootfs: string;
  tmpfsBytes: number;
}

/** bubblewrap backend: namespaces + cgroup + seccomp + rlimits, agent over the bwrap pipes. */
export class BwrapBackend extends ProcessBackend<BwrapStart, undefined> {
  readonly name = 'bwrap';
  readonly kind = 'sandbox';
  /** The /tmp, /work and /dev/shm tmpfs sizes are bwrap arguments. */
  readonly fixedAtStart = ['diskBytes'] as const;
  /** bwrapArgs: --unshare-pid, --as-pid-1 (the agent is the init), --die-with-parent. */
  protected override readonly pidNamespace = true;
  readonly #options: Required<BwrapBackendOptions>;
  readonly #procMasks: ProcMasks;

  constructor(options: BwrapBackendOptions) {
    super({
      cgroups: options.cgroups,
      hostIds: options.hostIds,
      startTimeoutMs: options.startTimeoutMs ?? 10_000,
      ...(options.forkServerPath ? { forkServer: { path: options.forkServerPath, launcher: options.launcherPath, fdFiles: [options.seccompFilterPath, options.seccompFilterI386Path] } } : {}),
    });
    this.#options = { startTimeoutMs: this.startTimeoutMs, forkServerPath: '', ...options };
    this.#procMasks = { files: PROC_MASKS.files.filter((f) => existsSync(f)), dirs: PROC_MASKS.dirs.filter((d) => existsSync(d)) };
  }

  protected plan(spec: SandboxSpec): BwrapStart {
    return { seccompFilter: this.#seccompFilter(spec.image), rootfs: spec.rootfs, tmpfsBytes: spec.limits.diskBytes };
  }

  protected async command(slot: SandboxSlot, plan: BwrapStart): Promise<SandboxCommand<undefined>> {
    const o = this.#options;
    // Through the fork server the sandbox's /dev is ready in the launch mount namespace.
    const launchNamespaceDev = o.forkServerPath !== '';
    return {
      argv: [
        o.launcherPath,
        ...launchArgs({ cgroupProcsFiles: slot.cgroup.procsFiles, hostUid: slot.uid, hostGid: slot.uid, programUid: programUidOf(o.hostIds, slot.uid), requireSandboxDev: launchNamespaceDev }),
        o.bwrapPath,
        ...bwrapArgs({ rootfs: plan.rootfs, agentBinary: o.agentPath, tmpfsBytes: plan.tmpfsBytes, hostname: 'sandbox', procMasks: this.#procMasks, launchNamespaceDev }),
      ],
      agentOnStdio: true,
      fdFile: plan.seccompFilter,
      run: undefined,
    };
  }

  async connect(sandbox: LaunchedSandbox<BwrapStart, undefined>): Promise<AgentStreams> {
    return { fromAgent: sandbox.child.stdout!, toAgent: sandbox.child.stdin! };
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
