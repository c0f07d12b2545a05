import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chooseBackend, type HostCapabilities } from '../../src/sandbox/availability.js';
import { guestClock } from '../../src/sandbox/qemu/guest-clock.js';
import { AGENT_PORT_NAME, qemuArgs, type QemuPlan } from '../../src/sandbox/qemu/plan.js';

const plan: QemuPlan = {
  kernel: '/data/vm/kernel/vmlinuz',
  initramfs: '/data/vm/initramfs.cpio',
  disk: '/data/vm/disks/python.ext4',
  agentSocket: '/data/run/rc-1-u2-abc/agent.sock',
  memoryMib: 320,
  tmpfsBytes: 64 * 1024 * 1024,
  accel: 'tcg',
  tscKhz: 2_100_000,
  lpj: 8_400_000,
};

describe('QEMU plan', () => {
  const args = qemuArgs(plan);
  const value = (flag: string): string[] => args.flatMap((arg, i) => (arg === flag ? [args[i + 1]!] : []));

  it('boots the microvm machine with nothing but the listed devices, and no network', () => {
    assert.deepEqual(value('-M'), ['microvm']);
    assert.ok(args.includes('-nodefaults') && args.includes('-no-user-config') && args.includes('-no-reboot'));
    assert.ok(!args.some((arg) => /^-(net|netdev|nic)$/.test(arg)), 'no network device');
    assert.deepEqual(value('-device'), ['virtio-blk-device,drive=root', 'virtio-serial-device', `virtserialport,chardev=agent,name=${AGENT_PORT_NAME}`]);
  });

  it('attaches the shared image disk read-only to QEMU itself', () => {
    assert.deepEqual(value('-drive'), [`id=root,file=${plan.disk},format=raw,if=none,readonly=on`]);
  });

  it('passes the clock, the agent port and the scratch size on the kernel command line', () => {
    const [append] = value('-append');
    for (const part of ['panic=-1', 'rdinit=/init', 'tsc_early_khz=2100000', 'lpj=8400000', `rc.port=${AGENT_PORT_NAME}`, `rc.tmpfs=${64 * 1024 * 1024}`]) {
      assert.ok(append!.split(' ').includes(part), part);
    }
    assert.deepEqual(value('-m'), ['320']);
    assert.deepEqual(value('-accel'), ['tcg']);
  });

  it('derives tsc_early_khz and lpj from /proc/cpuinfo and the kernel HZ', () => {
    assert.deepEqual(guestClock(250, 'processor\t: 0\ncpu MHz\t\t: 2100.000\n'), { tscKhz: 2_100_000, lpj: 8_400_000 });
    assert.deepEqual(guestClock(1000, 'cpu MHz\t\t: 2999.998\n'), { tscKhz: 2_999_998, lpj: 2_999_998 });
  });
});

describe('backend choice', () => {
  const host = (usable: Partial<Record<'bwrap' | 'qemu' | 'firecracker', boolean>>, accel: 'kvm' | 'tcg'): HostCapabilities => {
    const cap = (ok = false) => ({ usable: ok, reason: ok ? 'ok' : 'missing thing' });
    return {
      root: true,
      cgroup: { mode: 'v1', usable: true, reason: '' },
      userNamespaces: cap(true),
      kvm: { ...cap(accel === 'kvm'), kind: accel === 'kvm' ? 'hardware' : 'none', module: accel === 'kvm' ? 'kvm_intel' : null, deviceGroup: null },
      qemuAccel: accel,
      backends: { bwrap: cap(usable.bwrap), qemu: cap(usable.qemu), firecracker: cap(usable.firecracker) },
    };
  };

  it('auto prefers firecracker, then QEMU with KVM, then bwrap — never emulated QEMU', () => {
    assert.equal(chooseBackend('auto', host({ bwrap: true, qemu: true, firecracker: true }, 'kvm')), 'firecracker');
    assert.equal(chooseBackend('auto', host({ bwrap: true, qemu: true }, 'kvm')), 'qemu');
    assert.equal(chooseBackend('auto', host({ bwrap: true, qemu: true }, 'tcg')), 'bwrap');
  });

  it('a named backend that cannot run here is refused with the reason', () => {
    assert.equal(chooseBackend('qemu', host({ qemu: true }, 'tcg')), 'qemu');
    assert.throws(() => chooseBackend('firecracker', host({ bwrap: true }, 'tcg')), /the firecracker backend cannot run here: missing thing/);
  });
});
