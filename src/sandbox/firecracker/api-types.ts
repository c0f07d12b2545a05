/**
 * Bodies of the Firecracker API requests Runner Codes sends, named and shaped exactly as the
 * `definitions` of Firecracker's OpenAPI spec (v1.16.1, test/fixtures/firecracker/firecracker-v1.16.1.yaml).
 * Kept apart from the client, as Firecracker keeps its API types apart from the VMM.
 *
 * Only the fields we use or may plausibly use are declared; Firecracker rejects unknown fields
 * (`serde(deny_unknown_fields)`), so a field that is not in the spec must never be added here.
 * test/unit/firecracker-api-types.test.ts validates a full and a minimal value of every type
 * against the spec, so a misspelt or invented field fails a test.
 */

/** `BootSource`: the guest kernel (an uncompressed ELF vmlinux on x86_64), initrd and command line. */
export interface BootSource {
  kernel_image_path: string;
  initrd_path?: string;
  boot_args?: string;
}

/** `Drive` (virtio-block variant; the vhost-user `socket` field is not used). */
export interface Drive {
  /** Also the `{drive_id}` path parameter; Firecracker requires the two to be equal. */
  drive_id: string;
  is_root_device: boolean;
  /** Required for virtio-block drives (per the spec's description), though not in `required`. */
  path_on_host: string;
  is_read_only: boolean;
  partuuid?: string;
  cache_type?: 'Unsafe' | 'Writeback';
  io_engine?: 'Sync' | 'Async';
}

/** `MachineConfiguration` (PUT `/machine-config`). */
export interface MachineConfiguration {
  /** 1..32; with SMT, 1 or even. */
  vcpu_count: number;
  mem_size_mib: number;
  smt?: boolean;
  /** Needed for diff snapshots only. */
  track_dirty_pages?: boolean;
  huge_pages?: 'None' | '2M';
}

/** `Vsock`: Firecracker creates and listens on `uds_path` for host-initiated connections. */
export interface Vsock {
  /** ≥ 3 (0–2 are reserved: hypervisor, local, host). */
  guest_cid: number;
  uds_path: string;
}

/** `InstanceActionInfo.action_type` (FlushMetrics is not used). */
export type InstanceActionType = 'InstanceStart' | 'SendCtrlAltDel' | 'FlushMetrics';

/** `InstanceActionInfo` (PUT `/actions`). */
export interface InstanceActionInfo {
  action_type: InstanceActionType;
}

/** `Vm` (PATCH `/vm`): pause before a snapshot, resume after. */
export interface Vm {
  state: 'Paused' | 'Resumed';
}

/** `SnapshotCreateParams` (PUT `/snapshot/create`, only while paused). */
export interface SnapshotCreateParams {
  snapshot_path: string;
  mem_file_path: string;
  /** Default Full; Diff needs `track_dirty_pages`. */
  snapshot_type?: 'Full' | 'Diff';
}

/** `MemoryBackend`: where restored guest memory comes from. */
export interface MemoryBackend {
  /** File: mmap the memory file; Uffd: a page-fault handler listening on `backend_path` serves pages. */
  backend_type: 'File' | 'Uffd';
  backend_path: string;
}

/** `VsockOverride`: a new host socket path for the restored vsock device. */
export interface VsockOverride {
  uds_path: string;
}

/**
 * `SnapshotLoadParams` (PUT `/snapshot/load`, only on a fresh Firecracker process). We always send
 * `mem_backend`, never the deprecated `mem_file_path` (the spec allows exactly one of the two).
 */
export interface SnapshotLoadParams {
  snapshot_path: string;
  mem_backend: MemoryBackend;
  resume_vm?: boolean;
  track_dirty_pages?: boolean;
  /** Each restored VM gets its own socket path, so clones of one snapshot never collide. */
  vsock_override?: VsockOverride;
}

/** `InstanceInfo` (GET `/`). */
export interface InstanceInfo {
  app_name: string;
  id: string;
  state: 'Not started' | 'Running' | 'Paused';
  vmm_version: string;
}

/** `Error`: the body of every non-2xx answer. */
export interface FirecrackerFault {
  fault_message?: string;
}
