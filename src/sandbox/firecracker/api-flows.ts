import { InvalidRequestError } from '../../errors.js';
import {
  actionRequest,
  checkSocketPath,
  patchVmRequest,
  putBootSourceRequest,
  putDriveRequest,
  putMachineConfigRequest,
  putVsockRequest,
  snapshotCreateRequest,
  snapshotLoadRequest,
  type ApiRequest,
} from './api-requests.js';
import type { BootSource, Drive, MachineConfiguration, MemoryBackend, SnapshotCreateParams, Vsock } from './api-types.js';

/**
 * The multi-request Firecracker flows, plan-then-act: each `plan*` turns a config into the exact
 * list of requests (validating everything first, so nothing is sent for a config that would fail
 * half-way), and `runPlan` sends them in order, stopping at the first error.
 */

/** Anything that can send one request: the real client, or a recorder in tests. */
export interface ApiSender {
  send(request: ApiRequest): Promise<unknown>;
}

export interface MicroVmBootConfig {
  bootSource: BootSource;
  /** Exactly one must have `is_root_device`. */
  drives: readonly Drive[];
  machine: MachineConfiguration;
  vsock: Vsock;
}

/** boot-source, drives, machine-config, vsock, then InstanceStart: the order Firecracker's docs use. */
export function planBoot(config: MicroVmBootConfig): ApiRequest[] {
  const roots = config.drives.filter((drive) => drive.is_root_device).length;
  if (roots !== 1) throw new InvalidRequestError('drives', `exactly one drive must be the root device, got ${roots}`);
  const ids = new Set(config.drives.map((drive) => drive.drive_id));
  if (ids.size !== config.drives.length) throw new InvalidRequestError('drives', 'drive ids must be unique');
  return [
    putBootSourceRequest(config.bootSource),
    ...config.drives.map(putDriveRequest),
    putMachineConfigRequest(config.machine),
    putVsockRequest(config.vsock),
    actionRequest('InstanceStart'),
  ];
}

export interface SnapshotCreateOptions {
  /** Resume the VM after the snapshot is written (default: leave it paused, e.g. a template VM). */
  resumeAfter?: boolean;
}

/** Pause, write the snapshot (state + memory), and optionally resume. */
export function planSnapshotCreate(params: SnapshotCreateParams, options: SnapshotCreateOptions = {}): ApiRequest[] {
  const plan = [patchVmRequest('Paused'), snapshotCreateRequest(params)];
  if (options.resumeAfter === true) plan.push(patchVmRequest('Resumed'));
  return plan;
}

export interface SnapshotRestoreConfig {
  snapshotPath: string;
  memory: MemoryBackend;
  /**
   * The vsock socket this restored VM listens on. Must be new for every restore: clones of one
   * snapshot would otherwise all try to bind the path recorded in the snapshot (the backend uses the
   * VM's own directory).
   */
  vsockUdsPath: string;
}

/**
 * One `snapshot/load` on a fresh Firecracker process, resuming the VM at once and moving its vsock
 * to `vsockUdsPath`. Vsock connections open at snapshot time are reset; guest listeners survive,
 * so the host reconnects with `connectVsock` afterwards.
 */
export function planSnapshotRestore(config: SnapshotRestoreConfig): ApiRequest[] {
  checkSocketPath('vsockUdsPath', config.vsockUdsPath);
  return [
    snapshotLoadRequest({
      snapshot_path: config.snapshotPath,
      mem_backend: config.memory,
      resume_vm: true,
      vsock_override: { uds_path: config.vsockUdsPath },
    }),
  ];
}

/** Asks the guest to shut down; the caller still kills the process if it does not exit in time. */
export function planShutdown(): ApiRequest[] {
  return [actionRequest('SendCtrlAltDel')];
}

/** Sends the plan's requests in order; the first failure stops the rest and is thrown as is. */
export async function runPlan(sender: ApiSender, plan: readonly ApiRequest[]): Promise<void> {
  for (const request of plan) await sender.send(request);
}

/** Plans and boots; a config error rejects before anything is sent. */
export async function bootMicroVm(sender: ApiSender, config: MicroVmBootConfig): Promise<void> {
  await runPlan(sender, planBoot(config));
}

export async function createSnapshot(sender: ApiSender, params: SnapshotCreateParams, options: SnapshotCreateOptions = {}): Promise<void> {
  await runPlan(sender, planSnapshotCreate(params, options));
}

export async function restoreSnapshot(sender: ApiSender, config: SnapshotRestoreConfig): Promise<void> {
  await runPlan(sender, planSnapshotRestore(config));
}
