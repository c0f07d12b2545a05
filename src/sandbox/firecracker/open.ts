import { existsSync } from 'node:fs';
import { ErrorCodes, SandboxError } from '../../errors.js';
import { ImageStore } from '../../images/store.js';
import { requireKernelManifest } from '../../images/vm/kernel.js';
import { vmPaths } from '../../images/vm/paths.js';
import { firecrackerBinary, jailerBinary } from '../../images/vm/vmm-binaries.js';
import { missing, type BackendHost } from '../backend-host.js';
import { FirecrackerBackend } from './backend.js';
import { currentSnapshot, snapshotFiles } from './snapshot-manifest.js';

/**
 * The firecracker backend on this host, under the jailer where one is found (or required);
 * executions restore their image's snapshot where one is current.
 */
export function openBackend({ paths, cgroups, hostIds, capabilities, firecrackerJailer = 'auto' }: BackendHost): FirecrackerBackend {
  const vm = vmPaths(paths);
  const images = new ImageStore(paths.imagesDir);
  const kernel = requireKernelManifest(vm);
  const jailer = firecrackerJailer === 'off' ? null : jailerBinary(vm);
  // Unjailed, Firecracker opens the host's /dev/kvm (the jailer makes each VM a node of its own).
  const kvmGroup = capabilities.kvm.deviceGroup;
  if (firecrackerJailer === 'on' && !jailer) {
    throw new SandboxError(ErrorCodes.HOST_DEPENDENCY, 'the jailer is required (firecracker_jailer = on) but none is found', {
      hint: 'run `infra.operator setup --vm --firecracker PATH --jailer PATH` (RUNNER_CODES_JAILER or PATH work too)',
    });
  }
  if (jailer && !existsSync(paths.reaper)) throw missing(`runner-reaper is not built (${paths.reaper})`);
  const backend: FirecrackerBackend = new FirecrackerBackend({
    command: [firecrackerBinary(vm)!],
    ...(jailer ? { jailer: { jailerPath: jailer, chrootBase: vm.jailDir, reaperPath: paths.reaper } } : {}),
    launcherPath: paths.launcher,
    vm,
    cgroups,
    hostIds,
    runDir: vm.runDir,
    ...(kvmGroup !== null ? { kvmGroup } : {}),
    snapshotFor: (image) => {
      const manifest = images.manifest(image);
      return manifest && currentSnapshot(vm, manifest, kernel.release, backend.jailed) ? snapshotFiles(vm, image) : null;
    },
  });
  return backend;
}
