import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type {
  BootSource,
  Drive,
  InstanceActionInfo,
  InstanceInfo,
  MachineConfiguration,
  MemoryBackend,
  SnapshotCreateParams,
  SnapshotLoadParams,
  Vm,
  Vsock,
  VsockOverride,
} from '../../src/sandbox/firecracker/api-types.js';
import { specValidator } from '../helpers/firecracker-fake-api.js';

/**
 * Ties src/sandbox/firecracker/api-types.ts to the spec's definitions in both directions:
 * - `full` values are `Required<T>`, so the compiler forces every field of the TS type to appear;
 *   the validator rejects unknown fields, so each TS field name must exist in the spec with a
 *   matching type.
 * - `minimal` values hold only the fields the TS type requires (the compiler accepts them);
 *   the validator rejects a missing required field, so the spec requires nothing more.
 */
interface Case<T> {
  definition: string;
  full: Required<T>;
  minimal: T;
}

const cases: Array<Case<unknown>> = [
  {
    definition: 'BootSource',
    full: { kernel_image_path: '/vmlinux', initrd_path: '/initrd', boot_args: 'console=ttyS0' } satisfies Required<BootSource>,
    minimal: { kernel_image_path: '/vmlinux' } satisfies BootSource,
  },
  {
    definition: 'Drive',
    full: {
      drive_id: 'rootfs', is_root_device: true, path_on_host: '/r.ext4', is_read_only: true,
      partuuid: '0eaa91a0-01', cache_type: 'Writeback', io_engine: 'Async',
    } satisfies Required<Drive>,
    minimal: { drive_id: 'rootfs', is_root_device: true, path_on_host: '/r.ext4', is_read_only: true } satisfies Drive,
  },
  {
    definition: 'MachineConfiguration',
    full: { vcpu_count: 2, mem_size_mib: 512, smt: false, track_dirty_pages: true, huge_pages: '2M' } satisfies Required<MachineConfiguration>,
    minimal: { vcpu_count: 1, mem_size_mib: 256 } satisfies MachineConfiguration,
  },
  {
    definition: 'Vsock',
    full: { guest_cid: 3, uds_path: '/run/v.sock' } satisfies Required<Vsock>,
    minimal: { guest_cid: 3, uds_path: '/run/v.sock' } satisfies Vsock,
  },
  {
    definition: 'InstanceActionInfo',
    full: { action_type: 'SendCtrlAltDel' } satisfies Required<InstanceActionInfo>,
    minimal: { action_type: 'InstanceStart' } satisfies InstanceActionInfo,
  },
  {
    definition: 'Vm',
    full: { state: 'Resumed' } satisfies Required<Vm>,
    minimal: { state: 'Paused' } satisfies Vm,
  },
  {
    definition: 'SnapshotCreateParams',
    full: { snapshot_path: '/s', mem_file_path: '/m', snapshot_type: 'Diff' } satisfies Required<SnapshotCreateParams>,
    minimal: { snapshot_path: '/s', mem_file_path: '/m' } satisfies SnapshotCreateParams,
  },
  {
    definition: 'MemoryBackend',
    full: { backend_type: 'Uffd', backend_path: '/uffd.sock' } satisfies Required<MemoryBackend>,
    minimal: { backend_type: 'File', backend_path: '/m' } satisfies MemoryBackend,
  },
  {
    definition: 'VsockOverride',
    full: { uds_path: '/v2.sock' } satisfies Required<VsockOverride>,
    minimal: { uds_path: '/v2.sock' } satisfies VsockOverride,
  },
  {
    definition: 'SnapshotLoadParams',
    full: {
      snapshot_path: '/s', mem_backend: { backend_type: 'File', backend_path: '/m' }, resume_vm: true,
      track_dirty_pages: false, vsock_override: { uds_path: '/v2.sock' },
    } satisfies Required<SnapshotLoadParams>,
    minimal: { snapshot_path: '/s', mem_backend: { backend_type: 'File', backend_path: '/m' } } satisfies SnapshotLoadParams,
  },
  {
    definition: 'InstanceInfo',
    full: { app_name: 'Firecracker', id: 'i', state: 'Not started', vmm_version: '1.16.1' } satisfies Required<InstanceInfo>,
    minimal: { app_name: 'Firecracker', id: 'i', state: 'Running', vmm_version: '1.16.1' } satisfies InstanceInfo,
  },
];

describe('api-types.ts matches the spec definitions', () => {
  const validator = specValidator();
  for (const { definition, full, minimal } of cases) {
    it(`${definition}: every TS field exists in the spec`, () => assert.deepEqual(validator.validateDefinition(definition, full), []));
    it(`${definition}: the TS required fields are all the spec requires`, () => assert.deepEqual(validator.validateDefinition(definition, minimal), []));
  }

  it('the check bites: a value with a field the spec lacks is rejected', () => {
    const withExtra = { ...cases[0]?.full, kernel_args: 'x' };
    assert.match(validator.validateDefinition('BootSource', withExtra).join('\n'), /BootSource\.kernel_args: unknown field/);
  });
});
