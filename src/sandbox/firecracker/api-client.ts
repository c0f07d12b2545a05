import { Client } from 'undici';
import { InvalidRequestError } from '../../errors.js';
import { FirecrackerApiError, FirecrackerTransportError } from './api-errors.js';
import {
  actionRequest,
  checkSocketPath,
  instanceInfoRequest,
  patchVmRequest,
  putBootSourceRequest,
  putDriveRequest,
  putMachineConfigRequest,
  putVsockRequest,
  snapshotCreateRequest,
  snapshotLoadRequest,
  type ApiRequest,
} from './api-requests.js';
import type {
  BootSource,
  Drive,
  InstanceInfo,
  MachineConfiguration,
  SnapshotCreateParams,
  SnapshotLoadParams,
  Vsock,
} from './api-types.js';

export interface FirecrackerApiClientOptions {
  /** The path given to `firecracker --api-sock`. */
  socketPath: string;
  /** Limit for each request, from connecting to the last byte of the answer. Default 5000 ms. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 5000;
/** Firecracker's answers are a few hundred bytes; anything near this is not Firecracker. */
const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * A typed client for one Firecracker process's API socket. Every call has a timeout; a non-2xx
 * answer becomes a `FirecrackerApiError` carrying the status and Firecracker's `fault_message`.
 * Firecracker serves one request at a time, so the client never pipelines.
 */
export class FirecrackerApiClient {
  readonly socketPath: string;
  readonly timeoutMs: number;
  readonly #client: Client;

  constructor(options: FirecrackerApiClientOptions) {
    checkSocketPath('socketPath', options.socketPath);
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
      throw new InvalidRequestError('timeoutMs', `must be a positive integer, got ${timeoutMs}`);
    }
    this.socketPath = options.socketPath;
    this.timeoutMs = timeoutMs;
    this.#client = new Client('http://localhost', {
      socketPath: options.socketPath,
      pipelining: 1,
      connectTimeout: timeoutMs,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
  }

  /** Sends one request; resolves with the parsed JSON answer, or undefined for 204. */
  async send(request: ApiRequest): Promise<unknown> {
    const signal = AbortSignal.timeout(this.timeoutMs);
    let status: number;
    let text: string;
    try {
      const response = await this.#client.request({
        method: request.method,
        path: request.path,
        headers: request.body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
        body: request.body === undefined ? null : JSON.stringify(request.body),
        signal,
      });
      status = response.statusCode;
      text = await readCapped(response.body, MAX_ANSWER_BYTES);
    } catch (err) {
      throw transportError(request, err, signal.aborted, this.timeoutMs);
    }
    if (status < 200 || status > 299) throw new FirecrackerApiError(request, status, faultMessageOf(text));
    if (text.length === 0) return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw new FirecrackerTransportError(request, `answer ${status} is not JSON: ${text.slice(0, 200)}`, { cause: err });
    }
  }

  putBootSource(body: BootSource): Promise<void> {
    return this.#sendNoAnswer(putBootSourceRequest(body));
  }

  /** PUT `/drives/{drive_id}`; the path id is `body.drive_id`. */
  putDrive(body: Drive): Promise<void> {
    return this.#sendNoAnswer(putDriveRequest(body));
  }

  putMachineConfig(body: MachineConfiguration): Promise<void> {
    return this.#sendNoAnswer(putMachineConfigRequest(body));
  }

  putVsock(body: Vsock): Promise<void> {
    return this.#sendNoAnswer(putVsockRequest(body));
  }

  /** PUT `/actions {InstanceStart}`: boots the configured guest. */
  startInstance(): Promise<void> {
    return this.#sendNoAnswer(actionRequest('InstanceStart'));
  }

  /**
   * PUT `/actions {SendCtrlAltDel}`: asks the guest to shut down (x86_64 only; the guest needs the
   * i8042 driver). The API has no other clean shutdown; killing the process is the backstop.
   */
  sendCtrlAltDel(): Promise<void> {
    return this.#sendNoAnswer(actionRequest('SendCtrlAltDel'));
  }

  pauseVm(): Promise<void> {
    return this.#sendNoAnswer(patchVmRequest('Paused'));
  }

  resumeVm(): Promise<void> {
    return this.#sendNoAnswer(patchVmRequest('Resumed'));
  }

  /** PUT `/snapshot/create`; the VM must be paused. */
  createSnapshot(body: SnapshotCreateParams): Promise<void> {
    return this.#sendNoAnswer(snapshotCreateRequest(body));
  }

  /** PUT `/snapshot/load`; only a fresh Firecracker process accepts it. */
  loadSnapshot(body: SnapshotLoadParams): Promise<void> {
    return this.#sendNoAnswer(snapshotLoadRequest(body));
  }

  /** GET `/`: the instance id, state and Firecracker version. */
  async getInstanceInfo(): Promise<InstanceInfo> {
    const request = instanceInfoRequest();
    const answer = await this.send(request);
    if (!isInstanceInfo(answer)) {
      throw new FirecrackerTransportError(request, `answer is not an InstanceInfo: ${JSON.stringify(answer)?.slice(0, 200)}`);
    }
    return answer;
  }

  /** Closes the connection after in-flight requests finish. */
  close(): Promise<void> {
    return this.#client.close();
  }

  async #sendNoAnswer(request: ApiRequest): Promise<void> {
    await this.send(request);
  }
}

async function readCapped(body: AsyncIterable<Buffer>, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > maxBytes) throw new Error(`answer is larger than ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The spec's `Error.fault_message`, or the raw body when the answer is not that shape. */
function faultMessageOf(text: string): string {
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed !== null && typeof parsed === 'object' && typeof (parsed as { fault_message?: unknown }).fault_message === 'string') {
      return (parsed as { fault_message: string }).fault_message;
    }
  } catch {
    // Not JSON: fall through to the raw text.
  }
  return text.length === 0 ? '(empty answer)' : text.slice(0, 500);
}

function transportError(request: ApiRequest, err: unknown, aborted: boolean, timeoutMs: number): FirecrackerTransportError {
  const code = (err as { code?: unknown }).code;
  const undiciTimeout = typeof code === 'string' && code.startsWith('UND_ERR_') && code.endsWith('TIMEOUT');
  if (aborted || undiciTimeout) {
    return new FirecrackerTransportError(request, `no answer within ${timeoutMs} ms`, { cause: err, timedOut: true });
  }
  const reason = err instanceof Error ? err.message : String(err);
  return new FirecrackerTransportError(request, typeof code === 'string' ? `${code}: ${reason}` : reason, { cause: err });
}

const INSTANCE_STATES: readonly string[] = ['Not started', 'Running', 'Paused'];

function isInstanceInfo(value: unknown): value is InstanceInfo {
  if (value === null || typeof value !== 'object') return false;
  const info = value as Record<string, unknown>;
  return (
    typeof info.app_name === 'string' &&
    typeof info.id === 'string' &&
    typeof info.vmm_version === 'string' &&
    typeof info.state === 'string' &&
    INSTANCE_STATES.includes(info.state)
  );
}
