import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

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
