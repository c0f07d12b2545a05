import { InvalidRequestError } from '../../errors.js';
import type {
  BootSource,
  Drive,
  InstanceActionInfo,
  MachineConfiguration,
  SnapshotCreateParams,
  SnapshotLoadParams,
  Vm,
  Vsock,
} from './api-types.js';

/**
 * One Firecracker API call as plain data: what the plans in api-flows.ts are lists of, and what
 * the client sends. Building requests never touches a socket, so plans are testable anywhere.
 */
export interface ApiRequest {
  readonly method: 'GET' | 'PUT' | 'PATCH';
  readonly path: string;
  readonly body?: object;
}

/** Firecracker accepts ids of `_` and alphanumerics; we also cap the length and stay ASCII. */
const DEVICE_ID = /^[A-Za-z0-9_]{1,64}$/;

/** sun_path is 108 bytes including the terminating NUL: a longer socket path cannot be bound. */
export const MAX_UNIX_SOCKET_PATH_BYTES = 107;

/** Throws when `path` cannot be a Unix socket path (empty, NUL, or too long for sun_path). */
export function checkSocketPath(field: string, path: string): void {
  if (path.length === 0 || path.includes('\0')) throw new InvalidRequestError(field, 'must be a non-empty path without NUL');
  const bytes = Buffer.byteLength(path);
  if (bytes > MAX_UNIX_SOCKET_PATH_BYTES) {
    throw new InvalidRequestError(field, `socket path is ${bytes} bytes, the limit is ${MAX_UNIX_SOCKET_PATH_BYTES}: ${path}`);
  }
}

export function putBootSourceRequest(body: BootSource): ApiRequest {
  return { method: 'PUT', path: '/boot-source', body };
}

/** The path id is taken from the body, so the two can never disagree (Firecracker rejects that). */
export function putDriveRequest(body: Drive): ApiRequest {
  if (!DEVICE_ID.test(body.drive_id)) {
    throw new InvalidRequestError('drive_id', `must be 1-64 characters of [A-Za-z0-9_], got '${body.drive_id}'`);
  }
  return { method: 'PUT', path: `/drives/${body.drive_id}`, body };
}

export function putMachineConfigRequest(body: MachineConfiguration): ApiRequest {
  if (!Number.isInteger(body.vcpu_count) || body.vcpu_count < 1 || body.vcpu_count > 32) {
    throw new InvalidRequestError('vcpu_count', `must be an integer in 1..32, got ${body.vcpu_count}`);
  }
  if (!Number.isInteger(body.mem_size_mib) || body.mem_size_mib < 1) {
    throw new InvalidRequestError('mem_size_mib', `must be a positive integer, got ${body.mem_size_mib}`);
  }
  return { method: 'PUT', path: '/machine-config', body };
}

export function putVsockRequest(body: Vsock): ApiRequest {
  if (!Number.isInteger(body.guest_cid) || body.guest_cid < 3) {
    throw new InvalidRequestError('guest_cid', `must be an integer ≥ 3, got ${body.guest_cid}`);
  }
  checkSocketPath('uds_path', body.uds_path);
  return { method: 'PUT', path: '/vsock', body };
}

export function actionRequest(action: InstanceActionInfo['action_type']): ApiRequest {
  const body: InstanceActionInfo = { action_type: action };
  return { method: 'PUT', path: '/actions', body };
}

export function patchVmRequest(state: Vm['state']): ApiRequest {
  const body: Vm = { state };
  return { method: 'PATCH', path: '/vm', body };
}

export function snapshotCreateRequest(body: SnapshotCreateParams): ApiRequest {
  return { method: 'PUT', path: '/snapshot/create', body };
}

export function snapshotLoadRequest(body: SnapshotLoadParams): ApiRequest {
  if (body.vsock_override) checkSocketPath('vsock_override.uds_path', body.vsock_override.uds_path);
  return { method: 'PUT', path: '/snapshot/load', body };
}

export function instanceInfoRequest(): ApiRequest {
  return { method: 'GET', path: '/' };
}
