import { existsSync, readFileSync } from 'node:fs';
import { dataPaths, type DataPaths } from '../config/paths.js';
import { ImageStore, type ImageStatus } from '../images/store.js';
import { detectCgroupMode, type CgroupMode } from '../sandbox/cgroup/detect.js';
import { HOST_DEPENDENCIES, which } from './dependencies.js';

export interface Capability {
  usable: boolean;
  reason: string;
}

export interface DoctorReport {
  root: boolean;
  data_dir: string;
  cgroup: Capability & { mode: CgroupMode };
  user_namespaces: Capability;
  kvm: Capability;
  dependencies: { package: string; provides: string; purpose: string; present: boolean }[];
  agent: Capability;
  seccomp_filter: Capability;
  images: ImageStatus[];
  backends: Record<'bwrap' | 'qemu' | 'firecracker', Capability>;
}

function readNumber(path: string): number | null {
  try {
    return Number(readFileSync(path, 'utf8').trim());
  } catch {
    return null;
  }
}

function userNamespaces(): Capability {
  const max = readNumber('/proc/sys/user/max_user_namespaces');
  if (max === 0) return { usable: false, reason: 'user.max_user_namespaces is 0' };
  if (readNumber('/proc/sys/kernel/unprivileged_userns_clone') === 0) {
    return { usable: false, reason: 'kernel.unprivileged_userns_clone is 0 (sysctl -w kernel.unprivileged_userns_clone=1)' };
  }
  if (readNumber('/proc/sys/kernel/apparmor_restrict_unprivileged_userns') === 1) {
    return { usable: false, reason: 'AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns=1)' };
  }
  return { usable: true, reason: 'unprivileged user namespaces enabled' };
}

function cgroups(root: boolean): DoctorReport['cgroup'] {
  const mode = detectCgroupMode();
  if (mode === 'none') return { mode, usable: false, reason: 'no cgroup filesystem at /sys/fs/cgroup' };
  if (!root) return { mode, usable: false, reason: 'creating cgroups needs root' };
  return { mode, usable: true, reason: mode === 'v1' ? 'cgroup v1 (legacy or hybrid)' : 'cgroup v2 (unified)' };
}

function built(path: string, what: string): Capability {
  return existsSync(path) ? { usable: true, reason: path } : { usable: false, reason: `${what} not built: run \`infra.operator setup\`` };
}

/** What this host supports and what is missing. Reads only; changes nothing. */
export function diagnoseHost(paths: DataPaths = dataPaths()): DoctorReport {
  const root = process.getuid?.() === 0;
  const cgroup = cgroups(root);
  const userns = userNamespaces();
  const kvmPresent = existsSync('/dev/kvm');
  const bwrap = which('bwrap');
  const agent = built(paths.agent, 'runner-agent');
  const seccomp = built(paths.seccompFilter, 'seccomp filter');
  const bwrapProblems = [
    bwrap ? null : 'bwrap is not installed',
    userns.usable ? null : userns.reason,
    cgroup.usable ? null : cgroup.reason,
    agent.usable ? null : agent.reason,
    seccomp.usable ? null : seccomp.reason,
  ].filter((p): p is string => p !== null);
  return {
    root,
    data_dir: paths.root,
    cgroup,
    user_namespaces: userns,
    kvm: kvmPresent ? { usable: true, reason: '/dev/kvm present' } : { usable: false, reason: '/dev/kvm is absent (no hardware virtualisation)' },
    dependencies: HOST_DEPENDENCIES.map((dep) => ({ package: dep.aptPackage, provides: dep.provides, purpose: dep.purpose, present: which(dep.provides) !== null })),
    agent,
    seccomp_filter: seccomp,
    images: new ImageStore(paths.imagesDir).list(),
    backends: {
      bwrap: bwrapProblems.length === 0 ? { usable: true, reason: `bubblewrap at ${bwrap}` } : { usable: false, reason: bwrapProblems.join('; ') },
      qemu: { usable: false, reason: 'the qemu backend is not implemented yet' },
      firecracker: { usable: false, reason: kvmPresent ? 'the firecracker backend is not implemented yet' : 'needs /dev/kvm' },
    },
  };
}
