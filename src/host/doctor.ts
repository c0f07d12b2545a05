import { existsSync } from 'node:fs';
import { dataPaths, type DataPaths } from '../config/paths.js';
import { ImageStore, type ImageStatus } from '../images/store.js';
import { hostCapabilities, type Capability } from '../sandbox/availability.js';
import type { BackendName } from '../sandbox/backend-names.js';
import type { CgroupMode } from '../sandbox/cgroup/detect.js';
import type { KvmCapability } from '../sandbox/kvm.js';
import { which } from '../config/which.js';
import { HOST_DEPENDENCIES } from './dependencies.js';

export type { Capability };

export interface DoctorReport {
  root: boolean;
  data_dir: string;
  cgroup: Capability & { mode: CgroupMode };
  user_namespaces: Capability;
  /** `kind`: hardware, pvm or none; `module`: the KVM module backing /dev/kvm; `device_group`: the group VMMs get to open it. */
  kvm: Capability & { kind: KvmCapability['kind']; module: KvmCapability['module']; device_group: number | null };
  dependencies: { package: string; provides: string; purpose: string; present: boolean }[];
  agent: Capability;
  seccomp_filter: Capability;
  images: ImageStatus[];
  backends: Record<BackendName, Capability>;
}

function built(path: string, what: string): Capability {
  return existsSync(path) ? { usable: true, reason: path } : { usable: false, reason: `${what} not built: run \`infra.operator setup\`` };
}

/** What this host supports and what is missing. Reads only; changes nothing. */
export function diagnoseHost(paths: DataPaths = dataPaths()): DoctorReport {
  const host = hostCapabilities(paths);
  return {
    root: host.root,
    data_dir: paths.root,
    cgroup: host.cgroup,
    user_namespaces: host.userNamespaces,
    kvm: { usable: host.kvm.usable, reason: host.kvm.reason, kind: host.kvm.kind, module: host.kvm.module, device_group: host.kvm.deviceGroup },
    dependencies: HOST_DEPENDENCIES.map((dep) => ({ package: dep.aptPackage, provides: dep.provides, purpose: dep.purpose, present: which(dep.provides) !== null })),
    agent: built(paths.agent, 'runner-agent'),
    seccomp_filter: built(paths.seccompFilter, 'seccomp filter') ?? built(paths.seccompFilterI386, 'seccomp filter with i386'),
    images: new ImageStore(paths.imagesDir).list(),
    backends: host.backends,
  };
}
