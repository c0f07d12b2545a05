import { closeSync, constants, fstatSync, openSync } from 'node:fs';
import { ErrorCodes, SandboxError } from '../errors.js';

/** O_PATH (Linux): a descriptor that names a file without opening it. Node's fs.constants lacks it. */
const O_PATH = 0o10000000;

/** A VMM's Unix socket, held by descriptor. */
export interface HeldSocket {
  /** What to connect to: `/proc/self/fd/N`, which resolves to the held socket itself. */
  readonly path: string;
  /** Releases the descriptor (once connected, the connection no longer needs it). Idempotent. */
  close(): void;
}

/**
 * SECURITY: a VMM makes its sockets in a directory its uid owns, so it could swap one for a symlink
 * to any socket on the host, and the host, as root, would connect there. This opens the socket's
 * own inode (O_PATH|O_NOFOLLOW: a symlink is opened as itself, and refused), checks that it is a
 * socket made by the VM's uid, and hands out `/proc/self/fd/N` to connect to, which no later
 * change of the directory can redirect. Returns null while the socket does not exist yet.
 */
export function holdVmSocket(path: string, uid: number): HeldSocket | null {
  let fd: number;
  try {
    // libuv adds O_CLOEXEC to every open.
    fd = openSync(path, O_PATH | constants.O_NOFOLLOW);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const stat = fstatSync(fd);
  if (!stat.isSocket() || stat.uid !== uid) {
    closeSync(fd);
    throw new SandboxError(ErrorCodes.SANDBOX_START, `${path} is not a socket made by the VM (uid ${uid}); refusing to connect`);
  }
  let open = true;
  return {
    path: `/proc/self/fd/${fd}`,
    close: () => {
      if (open) closeSync(fd);
      open = false;
    },
  };
}
