import { createConnection, type Socket } from 'node:net';
import { ErrorCodes, InvalidRequestError, SandboxError } from '../../errors.js';
import { checkSocketPath } from './api-requests.js';

/**
 * Host-initiated connections over Firecracker's hybrid vsock (docs/vsock.md in Firecracker):
 * connect to the device's `uds_path`, send `CONNECT <guest port>\n`, read `OK <host port>\n`;
 * from then on the Unix socket is a byte stream to the guest's listener. When nothing listens on
 * the guest port, Firecracker just closes the connection.
 */

export interface VsockConnectOptions {
  /** The `uds_path` of the vsock device (or the `vsock_override` of a restored VM). */
  udsPath: string;
  /** The guest's AF_VSOCK port (the agent listens on 5000). */
  port: number;
  /** For the whole handshake, from connect to the OK line. Default 5000 ms. */
  timeoutMs?: number;
}

export interface VsockConnection {
  /**
   * Positioned right after the OK line; bytes the guest sent in the same packet are unread in it.
   * It has no 'error' listener any more: attach one at once (AgentChannel does).
   */
  socket: Socket;
  /** The host-side port Firecracker assigned (informational). */
  hostPort: number;
}

export type VsockFailure = 'connect' | 'closed' | 'refused' | 'timeout';

/** The handshake failed; `reason` says at which step. */
export class VsockHandshakeError extends SandboxError {
  readonly reason: VsockFailure;
  constructor(reason: VsockFailure, message: string, cause?: unknown) {
    super(ErrorCodes.VMM_API, `vsock: ${message}`, { cause });
    this.name = 'VsockHandshakeError';
    this.reason = reason;
  }
}

const DEFAULT_TIMEOUT_MS = 5000;
/** `OK 4294967295\n` is 14 bytes; a longer first line is not Firecracker's answer. */
const MAX_REPLY_LINE = 64;
const OK_LINE = /^OK ([0-9]{1,10})$/;

/** Connects and completes the handshake; bad options reject before any connection is made. */
export async function connectVsock(options: VsockConnectOptions): Promise<VsockConnection> {
  const { udsPath, port } = options;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  checkSocketPath('udsPath', udsPath);
  if (!Number.isInteger(port) || port < 0 || port > 0xffffffff) {
    throw new InvalidRequestError('port', `must be a vsock port (0..4294967295), got ${port}`);
  }
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
    throw new InvalidRequestError('timeoutMs', `must be a positive integer, got ${timeoutMs}`);
  }

  return await new Promise<VsockConnection>((resolve, reject) => {
    const socket = createConnection({ path: udsPath });
    let received = Buffer.alloc(0);
    let settled = false;
    let connected = false;

    const detach = (): void => {
      clearTimeout(timer);
      socket.off('connect', onConnect);
      socket.off('readable', onReadable);
      socket.off('end', onClosed);
      socket.off('close', onClosed);
      socket.off('error', onError);
    };
    const fail = (reason: VsockFailure, message: string, cause?: unknown): void => {
      if (settled) return;
      settled = true;
      detach();
      socket.destroy();
      reject(new VsockHandshakeError(reason, message, cause));
    };
    const succeed = (hostPort: number, rest: Buffer): void => {
      settled = true;
      detach();
      // Whatever the guest sent right behind the OK line belongs to the caller's stream.
      if (rest.length > 0) socket.unshift(rest);
      resolve({ socket, hostPort });
    };

    const onConnect = (): void => {
      connected = true;
      socket.write(`CONNECT ${port}\n`);
    };
    const onReadable = (): void => {
      let chunk: Buffer | null;
      // Read only up to the newline: later bytes stay in (or go back to) the socket's buffer.
      while (!settled && (chunk = socket.read() as Buffer | null) !== null) {
        received = Buffer.concat([received, chunk]);
        const newline = received.indexOf(0x0a);
        if (newline === -1) {
          if (received.length > MAX_REPLY_LINE) fail('refused', `expected 'OK <port>', got ${quote(received)}…`);
          continue;
        }
        const line = received.subarray(0, newline);
        const match = OK_LINE.exec(line.toString('latin1'));
        if (!match) return fail('refused', `CONNECT ${port} refused: expected 'OK <port>', got ${quote(line)}`);
        return succeed(Number(match[1]), received.subarray(newline + 1));
      }
    };
    const onClosed = (): void => {
      fail('closed', `connection to ${udsPath} closed before 'OK': nothing listens on guest port ${port}, or the guest is not up yet`);
    };
    const onError = (err: NodeJS.ErrnoException): void => {
      fail(connected ? 'closed' : 'connect', `${udsPath}: ${err.code ?? err.message}`, err);
    };
    const timer = setTimeout(() => fail('timeout', `no 'OK' for CONNECT ${port} within ${timeoutMs} ms`), timeoutMs);

    socket.on('connect', onConnect);
    socket.on('readable', onReadable);
    socket.on('end', onClosed);
    socket.on('close', onClosed);
    socket.on('error', onError);
  });
}

function quote(bytes: Buffer): string {
  return JSON.stringify(bytes.subarray(0, MAX_REPLY_LINE).toString('latin1'));
}
