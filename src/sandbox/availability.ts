import { existsSync, readFileSync } from 'node:fs';
import type { DataPaths } from '../config/paths.js';
import { ErrorCodes, SandboxError } from '../errors.js';
import { which } from '../config/which.js';
import { firecrackerBinary, jailerBinary } from '../images/vm/vmm-binaries.js';
import { vmPaths } from '../images/vm/paths.js';
import type { BackendChoice, BackendName } from './backend-names.js';
import type { Capability } from './capability.js';
import { detectCgroupMode, type CgroupMode } from './cgroup/detect.js';
import { judgeKvm, readKvmFacts, type KvmCapability } from './kvm.js';

export type { Capability } from './capability.js';

export interface HostCapabilities {
  root: boolean;
  cgroup: Capability & { mode: CgroupMode };
  userNamespaces: Capability;
  /** Whether VMs can use KVM, what backs it, and the device group VMMs need (kvm.ts). */
  kvm: KvmCapability;
  backends: Record<BackendName, Capability>;
  /** How QEMU would run here: with KVM, or emulated (TCG: seconds to boot). */
  qemuAccel: 'kvm' | 'tcg';
}

function readNumber(path: string): number | null {
  try {
    return Number(readFileSync(path, 'utf8').trim());
  } catch {
    return null;
  }
}

function userNamespaces(): Capability {
  if (readNumber('/proc/sys/user/max_user_namespaces') === 0) return { usable: false, reason: 'user.max_user_namespaces is 0' };
  if (readNumber('/proc/sys/kernel/unprivileged_userns_clone') === 0) {
    return { usable: false, reason: 'kernel.unprivileged_userns_clone is 0 (sysctl -w kernel.unprivileged_userns_clone=1)' };
  }
  if (readNumber('/proc/sys/kernel/apparmor_restrict_unprivileged_userns') === 1) {
    return { usable: false, reason: 'AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns=1)' };
  }
  return { usable: true, reason: 'unprivileged user namespaces enabled' };
}

function cgroups(root: boolean): HostCapabilities['cgroup'] {
  const mode = detectCgroupMode();
  if (mode === 'none') return { mode, usable: false, reason: 'no cgroup filesystem at /sys/fs/cgroup' };
  if (!root) return { mode, usable: false, reason: 'creating cgroups needs root' };
  return { mode, usable: true, reason: mode === 'v1' ? 'cgroup v1 (legacy or hybrid)' : 'cgroup v2 (unified)' };
}

const problems = (...checks: (string | null)[]): string[] => checks.filter((p): p is string => p !== null);
const built = (path: string, what: string): string | null => (existsSync(path) ? null : `${what} not built: run \`infra.operator setup\``);

/** What this host can run, and for each backend why not. Reads only; changes nothing. */
export function hostCapabilities(paths: DataPaths): HostCapabilities {
  const root = process.getuid?.() === 0;
  const cgroup = cgroups(root);
  const userns = userNamespaces();
  const vm = vmPaths(paths);
  const kvmCap = judgeKvm(readKvmFacts(vm.kernelConfig));
  const common = problems(cgroup.usable ? null : cgroup.reason, built(paths.agent, 'runner-agent'), built(paths.launcher, 'runner-launch'));
  const bwrap = which('bwrap');
  const bwrapProblems = [
    ...problems(bwrap ? null : 'bwrap is not installed', userns.usable ? null : userns.reason),
    ...common,
    ...problems(built(paths.seccompFilter, 'seccomp filter')),
  ];
  const qemu = which('qemu-system-x86_64');
  const vmSetup = existsSync(vm.kernelManifest) && existsSync(vm.initramfs) ? null : 'the guest kernel and initramfs are not prepared: run `infra.operator setup --vm`';
  const qemuProblems = [...problems(qemu ? null : 'qemu-system-x86_64 is not installed (setup --vm installs it)', vmSetup), ...common];
  const firecracker = firecrackerBinary(vm);
  const jailer = jailerBinary(vm);
  const jailing = jailer
    ? `jailed by ${jailer}`
    : 'not jailed: for production add the jailer (`setup --vm --firecracker PATH --jailer PATH`, docs/vm.md)';
  const qemuAccel = qemuAccelFor(kvmCap);
  return {
    root,
    cgroup,
    userNamespaces: userns,
    kvm: kvmCap,
    qemuAccel,
    backends: {
      bwrap: bwrapProblems.length === 0 ? { usable: true, reason: `bubblewrap at ${bwrap}` } : { usable: false, reason: bwrapProblems.join('; ') },
      qemu:
        qemuProblems.length === 0
          ? { usable: true, reason: qemuAccel === 'kvm' ? `${qemu} with KVM` : `${qemu} under emulation (TCG), boots take seconds; no KVM: ${kvmCap.reason}` }
          : { usable: false, reason: qemuProblems.join('; ') },
      firecracker: ((reasons) => (reasons.length === 0 ? { usable: true, reason: `${firecracker} with KVM, ${jailing}` } : { usable: false, reason: reasons.join('; ') }))([
        ...problems(
          kvmCap.usable ? null : `needs KVM (${kvmCap.reason})`,
          firecracker ? null : 'no firecracker binary (`setup --vm --firecracker PATH`, RUNNER_CODES_FIRECRACKER or PATH; ≥ 1.16.1, see docs/vm.md)',
          existsSync(vm.vmlinux) ? null : vmSetup ?? 'no vmlinux: run `infra.operator setup --vm`',
          jailer ? built(paths.reaper, 'runner-reaper') : null,
        ),
        ...common,
      ]),
    },
  };
}

/** QEMU uses KVM only where a VM can boot with it (judgeKvm); everywhere else it emulates (TCG). */
export function qemuAccelFor(kvm: KvmCapability): 'kvm' | 'tcg' {
  return kvm.usable ? 'kvm' : 'tcg';
}

/**
 * Resolves a backend choice on this host. `auto` takes firecracker where it is usable, else QEMU
 * with KVM, else bwrap: an emulated VM is real isolation but seconds per boot, so it is only used
 * when asked for by name. A named backend that cannot run here is an error naming why.
 */
export function chooseBackend(choice: BackendChoice, capabilities: HostCapabilities): BackendName {
  const { backends } = capabilities;
  if (choice === 'auto') {
    if (backends.firecracker.usable) return 'firecracker';
    if (backends.qemu.usable && capabilities.qemuAccel === 'kvm') return 'qemu';
    return 'bwrap';
  }
  if (!backends[choice].usable) {
    throw new SandboxError(ErrorCodes.HOST_DEPENDENCY, `the ${choice} backend cannot run here: ${backends[choice].reason}`, {
      hint: 'see `infra.operator doctor`',
    });
  }
  return choice;
}
