import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import type { Capability } from './capability.js';

export const KVM_DEVICE = '/dev/kvm';

/** The KVM modules that can back /dev/kvm: hardware virtualisation, or PVM (paravirtualised, no VMX/SVM needed). */
export type KvmModule = 'kvm_intel' | 'kvm_amd' | 'kvm_pvm';

/** What the host shows about KVM: everything the judgement reads, and nothing else. */
export interface KvmFacts {
  /** /dev/kvm's stat, or null when there is none. */
  device: { mode: number; uid: number; gid: number; charDevice: boolean } | null;
  /** Names under /sys/module (built-in modules with parameters are listed too). */
  modules: readonly string[];
  /** /proc/cpuinfo. */
  cpuinfo: string;
  /** The guest kernel's configuration (`vm/kernel/config`), or null when no guest kernel is prepared. */
  guestKernelConfig: string | null;
}

export interface KvmCapability extends Capability {
  /** `hardware` (kvm_intel, kvm_amd), `pvm` (kvm_pvm), or `none` (no device, or nothing known backs it). */
  kind: 'hardware' | 'pvm' | 'none';
  module: KvmModule | null;
  /**
   * The group a VMM's uid must hold to open /dev/kvm (Debian's udev: 0660 root:kvm), or null when
   * the device is open to every uid.
   */
  deviceGroup: number | null;
}

/** Reads the facts judgeKvm needs from this host (`device` and `guestKernelConfig` are paths). */
export function readKvmFacts(guestKernelConfig: string, device: string = KVM_DEVICE): KvmFacts {
  return {
    device: kvmDeviceFacts(device),
    modules: existsSync('/sys/module') ? readdirSync('/sys/module') : [],
    cpuinfo: readFileSync('/proc/cpuinfo', 'utf8'),
    guestKernelConfig: existsSync(guestKernelConfig) ? readFileSync(guestKernelConfig, 'utf8') : null,
  };
}

export function kvmDeviceFacts(device: string): KvmFacts['device'] {
  try {
    const st = statSync(device);
    return { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, charDevice: st.isCharacterDevice() };
  } catch {
    return null;
  }
}

/** The CPU flag each hardware module needs. */
const HARDWARE_FLAG: Record<Exclude<KvmModule, 'kvm_pvm'>, string> = { kvm_intel: 'vmx', kvm_amd: 'svm' };

/**
 * Whether VMs can use KVM here, as a pure function of what the host shows. A VMX/SVM flag alone
 * proves nothing: a bare-metal PVM host shows it too, and PVM (`kvm_pvm`) boots only guest kernels
 * built with CONFIG_PVM_GUEST=y — a normal kernel crawls through KVM's instruction emulator and
 * crashes minutes later. So the module that backs the device decides, PVM first, then the guest
 * kernel, then whether the VMs' unprivileged uids can open the device.
 */
export function judgeKvm(facts: KvmFacts): KvmCapability {
  const { device } = facts;
  if (!device) return { usable: false, reason: `${KVM_DEVICE} is absent (no hardware virtualisation)`, kind: 'none', module: null, deviceGroup: null };
  if (!device.charDevice) return { usable: false, reason: `${KVM_DEVICE} is not a character device`, kind: 'none', module: null, deviceGroup: null };
  const access = deviceAccess(device);
  const unusable = (kind: KvmCapability['kind'], module: KvmModule | null, reason: string): KvmCapability => ({ usable: false, reason, kind, module, deviceGroup: access.group });
  if (facts.modules.includes('kvm_pvm')) {
    if (facts.guestKernelConfig === null) {
      return unusable('pvm', 'kvm_pvm', 'KVM here is PVM (module kvm_pvm): it boots only guest kernels built with CONFIG_PVM_GUEST=y, and no guest kernel is prepared (`setup --vm`)');
    }
    if (!/^CONFIG_PVM_GUEST=y$/m.test(facts.guestKernelConfig)) {
      return unusable('pvm', 'kvm_pvm', 'KVM here is PVM (module kvm_pvm): it boots only guest kernels built with CONFIG_PVM_GUEST=y, and the guest kernel is not one (it would crash in KVM\'s emulator)');
    }
    return withAccess('pvm', 'kvm_pvm', access, 'PVM (kvm_pvm) with a CONFIG_PVM_GUEST guest kernel');
  }
  const module = (Object.keys(HARDWARE_FLAG) as (keyof typeof HARDWARE_FLAG)[]).find((m) => facts.modules.includes(m));
  if (!module) return unusable('none', null, `${KVM_DEVICE} exists but none of kvm_intel, kvm_amd, kvm_pvm backs it (/sys/module)`);
  const flag = HARDWARE_FLAG[module];
  if (!new RegExp(`^flags\\s*:.*\\b${flag}\\b`, 'm').test(facts.cpuinfo)) return unusable('hardware', module, `${module} is loaded but the CPU shows no ${flag}`);
  return withAccess('hardware', module, access, module);
}

function withAccess(kind: KvmCapability['kind'], module: KvmModule, access: DeviceAccess, what: string): KvmCapability {
  if (access.problem) return { usable: false, reason: access.problem, kind, module, deviceGroup: access.group };
  const through = access.group === null ? 'open to every uid' : `VMMs get its group ${access.group} as their one supplementary group`;
  return { usable: true, reason: `${KVM_DEVICE} usable: ${what}; ${through}`, kind, module, deviceGroup: access.group };
}

interface DeviceAccess {
  group: number | null;
  problem: string | null;
}

/**
 * How the VMs' own uids can open the device: as anyone (0666), or through its group (0660, Debian's
 * udev rule makes it root:kvm). Never through group 0: that group owns much else on a host.
 */
export function deviceAccess(device: NonNullable<KvmFacts['device']>): DeviceAccess {
  const shown = `${KVM_DEVICE} is ${device.mode.toString(8).padStart(4, '0')} uid ${device.uid} gid ${device.gid}`;
  if ((device.mode & 0o006) === 0o006) return { group: null, problem: null };
  if ((device.mode & 0o060) === 0o060) {
    if (device.gid !== 0) return { group: device.gid, problem: null };
    return { group: null, problem: `${shown}: the VMs' uids could open it only with group 0, which they never get; give it a group of its own (chgrp kvm ${KVM_DEVICE}, as Debian's udev does)` };
  }
  return { group: null, problem: `${shown}: the VMs' unprivileged uids cannot open it; make it 0660 root:kvm (as Debian's udev does) or 0666` };
}
