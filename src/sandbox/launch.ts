/**
 * runner-launch's argv, shared by every backend: it joins the sandbox's cgroups and drops to its
 * host uid before it execs bwrap or a VMM.
 */

export interface LaunchPlan {
  /** cgroup.procs files the launcher joins before exec (the process is limited before any code runs). */
  cgroupProcsFiles: readonly string[];
  /** The agent's host uid (and gid); it owns the sandbox's user namespace. */
  hostUid: number;
  hostGid: number;
  /**
   * The program's host uid and gid: another uid than the agent's, so it cannot reach the agent.
   * With it the launcher makes the sandbox's user namespace (bwrap); without it (a VMM) it does not.
   */
  programUid?: number;
  /**
   * SECURITY: refuse to start unless the launch mount namespace's /dev is the sandboxes' own
   * (agent/src/sandbox-dev.c): for a bwrap argv that binds /dev whole (BwrapPlan.launchNamespaceDev).
   */
  requireSandboxDev?: boolean;
}

export function launchArgs(plan: LaunchPlan): string[] {
  return [
    ...plan.cgroupProcsFiles.flatMap((file) => ['--cgroup-procs', file]),
    '--uid', String(plan.hostUid),
    '--gid', String(plan.hostGid),
    ...(plan.programUid === undefined ? [] : ['--program-id', String(plan.programUid)]),
    ...(plan.requireSandboxDev ? ['--require-sandbox-dev'] : []),
    '--',
  ];
}
