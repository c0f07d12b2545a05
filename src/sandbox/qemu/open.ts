import { which } from '../../config/which.js';
import { requireKernelManifest } from '../../images/vm/kernel.js';
import { vmPaths } from '../../images/vm/paths.js';
import type { BackendHost } from '../backend-host.js';
import { QemuBackend } from './backend.js';
import { guestClock } from './guest-clock.js';

/** With KVM where a VM can boot with it, else emulated; /dev/kvm's group where only it may open the device. */
export function openBackend({ paths, cgroups, hostIds, capabilities }: BackendHost): QemuBackend {
  const vm = vmPaths(paths);
  const kernel = requireKernelManifest(vm);
  const kvmGroup = capabilities.kvm.deviceGroup;
  return new QemuBackend({
    qemuPath: which('qemu-system-x86_64')!,
    launcherPath: paths.launcher,
    vm,
    cgroups,
    hostIds,
    accel: capabilities.qemuAccel,
    clock: guestClock(kernel.hz),
    runDir: vm.runDir,
    ...(kvmGroup !== null ? { kvmGroup } : {}),
  });
}
