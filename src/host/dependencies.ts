import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** A host requirement and the Debian package that provides it. */
export interface HostDependency {
  /** What it is for, shown by doctor. */
  purpose: string;
  /** A command found on PATH, or an absolute file path. */
  provides: string;
  aptPackage: string;
}

/** Everything `setup` installs and `doctor` checks (declared once, used by both). */
export const HOST_DEPENDENCIES: readonly HostDependency[] = [
  { purpose: 'sandbox namespaces', provides: 'bwrap', aptPackage: 'bubblewrap' },
  { purpose: 'image builds', provides: 'debootstrap', aptPackage: 'debootstrap' },
  { purpose: 'image layer flattening (overlay xattrs)', provides: 'getfattr', aptPackage: 'attr' },
  { purpose: 'agent build', provides: 'gcc', aptPackage: 'gcc' },
  { purpose: 'agent build', provides: 'make', aptPackage: 'make' },
  { purpose: 'agent build (static libc)', provides: '/usr/lib/x86_64-linux-gnu/libc.a', aptPackage: 'libc6-dev' },
  { purpose: 'seccomp filter compiler', provides: '/usr/include/seccomp.h', aptPackage: 'libseccomp-dev' },
  { purpose: 'agent JSON parsing', provides: '/usr/include/jansson.h', aptPackage: 'libjansson-dev' },
];

/** Absolute path of a command on PATH (or the path itself when absolute and present), else null. */
export function which(command: string, path: string = process.env.PATH ?? '/usr/bin:/bin'): string | null {
  if (command.startsWith('/')) return existsSync(command) ? command : null;
  for (const dir of [...path.split(delimiter), '/usr/sbin', '/sbin']) {
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  return null;
}

export function missingDependencies(): HostDependency[] {
  return HOST_DEPENDENCIES.filter((dep) => which(dep.provides) === null);
}
