import { ErrorCodes, SandboxError } from '../../errors.js';
import type { ApiRequest } from './api-requests.js';

/**
 * Firecracker answered a request with a non-2xx status. `faultMessage` is the spec's
 * `Error.fault_message` (Firecracker's own explanation, e.g. "Invalid kernel path"), or the raw
 * body when the answer was not the documented JSON.
 */
export class FirecrackerApiError extends SandboxError {
  readonly status: number;
  readonly faultMessage: string;
  readonly method: string;
  readonly path: string;

  constructor(request: ApiRequest, status: number, faultMessage: string) {
    super(ErrorCodes.VMM_API, `firecracker ${request.method} ${request.path} answered ${status}: ${faultMessage}`);
    this.name = 'FirecrackerApiError';
    this.status = status;
    this.faultMessage = faultMessage;
    this.method = request.method;
    this.path = request.path;
  }
}

/** The API socket could not be reached, or Firecracker did not answer in time. */
export class FirecrackerTransportError extends SandboxError {
  readonly method: string;
  readonly path: string;
  readonly timedOut: boolean;

  constructor(request: ApiRequest, reason: string, options: { cause?: unknown; timedOut?: boolean } = {}) {
    super(ErrorCodes.VMM_API, `firecracker ${request.method} ${request.path}: ${reason}`, {
      cause: options.cause,
      hint: 'is the firecracker process running, and is --api-sock the path the client uses?',
    });
    this.name = 'FirecrackerTransportError';
    this.method = request.method;
    this.path = request.path;
    this.timedOut = options.timedOut ?? false;
  }
}
