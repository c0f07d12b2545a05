import { which } from '../config/which.js';

/** A host requirement and the Debian package that provides it. */
export interface HostDependency {
  /** What it is for, shown by doctor. */
  purpose: string;
  /** A command found on PATH, or an absolute file path. */
  provides: string;
  aptPackage: string;
  /** Needed only for the microVM backends (installed by `setup --vm`). */
  vm?: true;
  /** Needed only to build the guest kernel (installed by `setup --vm --build-kernel`). */
  kernelBuild?: true;
}

/** Everything `setup` installs and `doctor` checks (declared once, used by both). */
export const HOST_DEPENDENCIES: readonly HostDependency[] = [
  { purpose: 'sandbox namespaces', provides: 'bwrap', aptPackage: 'bubblewrap' },
  { purpose: 'image builds', provides: 'debootstrap', aptPackage: 'debootstrap' },
  { purpose: 'image layer flattening (overlay xattrs)', provides: 'getfattr', aptPackage: 'attr' },
  { purpose: 'agent build', provides: 'gcc', aptPackage: 'gcc' },
  { purpose: 'agent build', provides: 'make', aptPackage: 'make' },
  { purpose: 'agent build (static libc)', provides: '/usr/lib/x86_64-linux-gnu/libc.a', aptPackage: 'libc6-dev' },
  // The test suite judges egress from the sandbox's namespace as the host sees it and makes its own outside host (ip netns, veth).
  { purpose: 'network checks of sandboxes (tests)', provides: 'ip', aptPackage: 'iproute2' },
  { purpose: 'seccomp filter compiler', provides: '/usr/include/seccomp.h', aptPackage: 'libseccomp-dev' },
  { purpose: 'agent JSON parsing', provides: '/usr/include/jansson.h', aptPackage: 'libjansson-dev' },
  { purpose: 'QEMU microVM backend', provides: 'qemu-system-x86_64', aptPackage: 'qemu-system-x86', vm: true },
  { purpose: 'guest initramfs', provides: 'cpio', aptPackage: 'cpio', vm: true },
  { purpose: 'guest disks (mkfs.ext4 -d)', provides: 'mkfs.ext4', aptPackage: 'e2fsprogs', vm: true },
  { purpose: 'guest vmlinux for Firecracker (unpacking the LZ4 kernel)', provides: 'lz4', aptPackage: 'lz4', vm: true },
  { purpose: 'guest kernel build (source)', provides: '/usr/src/linux-source-6.1.tar.xz', aptPackage: 'linux-source-6.1', kernelBuild: true },
  { purpose: 'guest kernel build', provides: 'bison', aptPackage: 'bison', kernelBuild: true },
  { purpose: 'guest kernel build', provides: 'flex', aptPackage: 'flex', kernelBuild: true },
  { purpose: 'guest kernel build', provides: 'bc', aptPackage: 'bc', kernelBuild: true },
  { purpose: 'guest kernel build (objtool)', provides: '/usr/include/libelf.h', aptPackage: 'libelf-dev', kernelBuild: true },
  { purpose: 'guest kernel build (certificates)', provides: '/usr/include/openssl/ssl.h', aptPackage: 'libssl-dev', kernelBuild: true },
];

/** Dependencies not present on this host; the microVM ones only when `vm` is asked for, the kernel build's with `kernelBuild`. */
export function missingDependencies(vm = false, kernelBuild = false): HostDependency[] {
  return HOST_DEPENDENCIES.filter((dep) => (vm || !dep.vm) && (kernelBuild || !dep.kernelBuild) && which(dep.provides) === null);
}
