import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { MICROVM_KERNEL_CONFIG } from '../../src/images/vm/kernel-build.js';
import { kernelModules, type KernelManifest } from '../../src/images/vm/kernel.js';
import { GUEST_MODULES } from '../../src/images/vm/paths.js';

/**
 * The configuration `setup --vm --build-kernel` builds with must have built in everything our guest
 * uses, since a built kernel's initramfs carries no modules.
 */
describe('the purpose-built guest kernel', () => {
  const config = readFileSync(MICROVM_KERNEL_CONFIG, 'utf8');
  const option = (name: string): string | undefined => new RegExp(`^CONFIG_${name}=(.*)$`, 'm').exec(config)?.[1];

  it('builds in what runner-vminit and both VMMs need', () => {
    for (const [name, why] of [
      ['BLK_DEV_INITRD', 'the initramfs holds runner-vminit'],
      ['DEVTMPFS', '/dev/vda and the virtio ports'],
      ['TMPFS', 'the per-VM scratch space'],
      ['EXT4_FS', 'the image disks (mkfs.ext4 -d)'],
      ['VIRTIO_MMIO', 'the microvm machines\' devices'],
      ['VIRTIO_BLK', 'the root disk'],
      ['VIRTIO_CONSOLE', 'QEMU\'s virtio-serial agent port'],
      ['VIRTIO_VSOCKETS', 'Firecracker\'s vsock'],
      ['SERIAL_8250_CONSOLE', 'the console the host reads'],
      ['PVH', 'QEMU boots the ELF vmlinux'],
      ['SECCOMP', 'the agent\'s filters in the guest'],
    ] as const) {
      assert.equal(option(name), 'y', `CONFIG_${name} (${why})`);
    }
    assert.match(config, /^# CONFIG_MODULES is not set$/m, 'no modules: nothing for the initramfs to load');
    assert.equal(option('HZ'), '250');
  });

  it('loads Debian\'s virtio modules in order, and none for a built kernel', () => {
    const debian = { package: 'linux-image-6.1.0-56-cloud-amd64', version: '6.1.192-2', release: '6.1.0-56-cloud-amd64', hz: 250, fetched_at: '' } satisfies KernelManifest;
    assert.deepEqual(kernelModules(debian), GUEST_MODULES.map((m) => m.split('/').pop()), 'a manifest from before the modules field');
    assert.deepEqual(kernelModules({ ...debian, source: 'built', modules: [] }), []);
  });

  it('is Firecracker\'s file, with its notice', () => {
    assert.match(config, /^# Linux\/x86_64 6\.1\.\S+ Kernel Configuration$/m);
    assert.match(readFileSync(new URL('../../../src/images/vm/kernel-config/NOTICE', import.meta.url), 'utf8'), /Apache-2\.0/);
  });
});
