import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chooseBackend, qemuAccelFor, type HostCapabilities } from '../../src/sandbox/availability.js';
import { judgeKvm, type KvmCapability, type KvmFacts } from '../../src/sandbox/kvm.js';

/**
 * KVM detection as a pure function of what a host shows, one host kind per case: the module under
 * /sys/module that backs /dev/kvm, the CPU flags, the device's mode and group, the guest kernel's
 * config. The backend choice follows from the judgement: `auto` never picks a VM that cannot boot.
 */
const DEBIAN_KERNEL = 'CONFIG_HZ=250\nCONFIG_KVM_GUEST=y\n# CONFIG_PVM_GUEST is not set\n';
const PVM_KERNEL = 'CONFIG_HZ=250\nCONFIG_KVM_GUEST=y\nCONFIG_PVM_GUEST=y\n';
const cpu = (...flags: string[]): string => `processor\t: 0\nflags\t\t: fpu sse2 ${flags.join(' ')} hypervisor\n`;
const device = (mode: number, gid = 0): KvmFacts['device'] => ({ mode, uid: 0, gid, charDevice: true });
const KVM_GID = 108;

const HOSTS: Record<string, KvmFacts> = {
  'bare-metal Intel, Debian udev (0660 root:kvm)': { device: device(0o660, KVM_GID), modules: ['kvm', 'kvm_intel'], cpuinfo: cpu('vmx'), guestKernelConfig: DEBIAN_KERNEL },
  'AMD, systemd rule (0666)': { device: device(0o666), modules: ['kvm', 'kvm_amd'], cpuinfo: cpu('svm'), guestKernelConfig: DEBIAN_KERNEL },
  'nested PVM guest (this machine: kvm_pvm, no vmx, 0600)': { device: device(0o600), modules: ['kvm', 'kvm_pvm'], cpuinfo: cpu(), guestKernelConfig: DEBIAN_KERNEL },
  'bare-metal PVM host (kvm_pvm and vmx shown)': { device: device(0o666), modules: ['kvm', 'kvm_intel', 'kvm_pvm'], cpuinfo: cpu('vmx'), guestKernelConfig: DEBIAN_KERNEL },
  'PVM with a CONFIG_PVM_GUEST guest kernel': { device: device(0o660, KVM_GID), modules: ['kvm', 'kvm_pvm'], cpuinfo: cpu(), guestKernelConfig: PVM_KERNEL },
  'PVM before `setup --vm`': { device: device(0o666), modules: ['kvm', 'kvm_pvm'], cpuinfo: cpu(), guestKernelConfig: null },
  'no /dev/kvm': { device: null, modules: [], cpuinfo: cpu('vmx'), guestKernelConfig: DEBIAN_KERNEL },
  'a /dev/kvm node with no KVM module': { device: device(0o666), modules: ['kvm'], cpuinfo: cpu('vmx'), guestKernelConfig: DEBIAN_KERNEL },
  'kvm_intel without vmx': { device: device(0o666), modules: ['kvm', 'kvm_intel'], cpuinfo: cpu(), guestKernelConfig: DEBIAN_KERNEL },
  'hardware KVM, device 0600 root:root': { device: device(0o600), modules: ['kvm', 'kvm_intel'], cpuinfo: cpu('vmx'), guestKernelConfig: DEBIAN_KERNEL },
  'hardware KVM, device 0660 root:root': { device: device(0o660, 0), modules: ['kvm', 'kvm_intel'], cpuinfo: cpu('vmx'), guestKernelConfig: DEBIAN_KERNEL },
};

const EXPECTED: Record<string, Pick<KvmCapability, 'usable' | 'kind' | 'module' | 'deviceGroup'> & { reason: RegExp }> = {
  'bare-metal Intel, Debian udev (0660 root:kvm)': { usable: true, kind: 'hardware', module: 'kvm_intel', deviceGroup: KVM_GID, reason: /usable: kvm_intel; VMMs get its group 108/ },
  'AMD, systemd rule (0666)': { usable: true, kind: 'hardware', module: 'kvm_amd', deviceGroup: null, reason: /open to every uid/ },
  'nested PVM guest (this machine: kvm_pvm, no vmx, 0600)': { usable: false, kind: 'pvm', module: 'kvm_pvm', deviceGroup: null, reason: /PVM \(module kvm_pvm\).*CONFIG_PVM_GUEST=y.*guest kernel is not one/ },
  'bare-metal PVM host (kvm_pvm and vmx shown)': { usable: false, kind: 'pvm', module: 'kvm_pvm', deviceGroup: null, reason: /CONFIG_PVM_GUEST=y, and the guest kernel is not one/ },
  'PVM with a CONFIG_PVM_GUEST guest kernel': { usable: true, kind: 'pvm', module: 'kvm_pvm', deviceGroup: KVM_GID, reason: /CONFIG_PVM_GUEST guest kernel/ },
  'PVM before `setup --vm`': { usable: false, kind: 'pvm', module: 'kvm_pvm', deviceGroup: null, reason: /no guest kernel is prepared/ },
  'no /dev/kvm': { usable: false, kind: 'none', module: null, deviceGroup: null, reason: /absent/ },
  'a /dev/kvm node with no KVM module': { usable: false, kind: 'none', module: null, deviceGroup: null, reason: /none of kvm_intel, kvm_amd, kvm_pvm/ },
  'kvm_intel without vmx': { usable: false, kind: 'hardware', module: 'kvm_intel', deviceGroup: null, reason: /shows no vmx/ },
  'hardware KVM, device 0600 root:root': { usable: false, kind: 'hardware', module: 'kvm_intel', deviceGroup: null, reason: /0600 uid 0 gid 0: the VMs' unprivileged uids cannot open it; make it 0660 root:kvm/ },
  'hardware KVM, device 0660 root:root': { usable: false, kind: 'hardware', module: 'kvm_intel', deviceGroup: null, reason: /only with group 0.*chgrp kvm/ },
};

/** Capabilities of a host where everything but KVM is in place. */
function hostWith(kvm: KvmCapability): HostCapabilities {
  const ok = { usable: true, reason: 'ok' };
  return {
    root: true,
    cgroup: { mode: 'v1', ...ok },
    userNamespaces: ok,
    kvm,
    qemuAccel: qemuAccelFor(kvm),
    backends: { bwrap: ok, qemu: ok, firecracker: kvm.usable ? ok : { usable: false, reason: `needs KVM (${kvm.reason})` } },
  };
}

describe('KVM detection by host kind', () => {
  for (const [host, facts] of Object.entries(HOSTS)) {
    it(host, () => {
      const { reason, ...expected } = EXPECTED[host]!;
      const kvm = judgeKvm(facts);
      assert.deepEqual({ usable: kvm.usable, kind: kvm.kind, module: kvm.module, deviceGroup: kvm.deviceGroup }, expected);
      assert.match(kvm.reason, reason);
      // auto never boots a VM KVM cannot run: QEMU with KVM only where KVM is usable, else bwrap.
      const capabilities = hostWith(kvm);
      assert.equal(capabilities.qemuAccel, kvm.usable ? 'kvm' : 'tcg');
      assert.equal(chooseBackend('auto', capabilities), kvm.usable ? 'firecracker' : 'bwrap');
    });
  }

  it('a vmx flag never makes PVM usable, nor does a 0666 device', () => {
    const kvm = judgeKvm(HOSTS['bare-metal PVM host (kvm_pvm and vmx shown)']!);
    assert.equal(kvm.usable, false);
    assert.equal(chooseBackend('auto', hostWith(kvm)), 'bwrap');
    // Asked for by name, QEMU still runs — emulated.
    assert.equal(chooseBackend('qemu', hostWith(kvm)), 'qemu');
    assert.equal(hostWith(kvm).qemuAccel, 'tcg');
  });
});
