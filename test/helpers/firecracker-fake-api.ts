/**
 * A stand-in for Firecracker's API socket: a node:http server on a Unix socket in a fresh temp dir
 * that checks every request against the real spec (firecracker-spec.ts), records it, and answers as
 * Firecracker does: the spec's 2xx response, or 400 `{fault_message}` for a request the spec (or
 * Firecracker's documented state rules) would reject.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { SpecValidator, loadSpec } from './firecracker-spec.js';

export interface RecordedRequest {
  method: string;
  path: string;
  operationId: string | undefined;
  body: unknown;
  /** Spec violations and state-rule violations; the answer was 400 when non-empty. */
  violations: string[];
}

/** Lets a test replace the answer to a request (e.g. to inject an error); undefined keeps the default. */
export type AnswerOverride = (request: RecordedRequest) => { status: number; body?: string } | 'hang' | undefined;

export interface FakeFirecracker {
  dir: string;
  socketPath: string;
  requests: RecordedRequest[];
  validator: SpecValidator;
  /** `METHOD /path` of every request, in order. */
  calls(): string[];
  close(): Promise<void>;
}

let sharedValidator: SpecValidator | undefined;

export function specValidator(): SpecValidator {
  sharedValidator ??= new SpecValidator(loadSpec());
  return sharedValidator;
}

/** Canned 200 bodies; each is itself checked against the spec's response schema. */
const CANNED_ANSWERS: Record<string, (state: VmmState) => unknown> = {
  describeInstance: (state) => ({ app_name: 'Firecracker', id: 'anonymous-instance', state: state.phase, vmm_version: '1.16.1' }),
  getFirecrackerVersion: () => ({ firecracker_version: '1.16.1' }),
};

/** Operations Firecracker accepts only before InstanceStart / snapshot load (the spec says "Pre-boot only"). */
const PRE_BOOT_ONLY = new Set(['putGuestBootSource', 'putGuestDriveByID', 'putMachineConfiguration', 'putGuestVsock', 'putCpuConfiguration']);

interface VmmState {
  phase: 'Not started' | 'Running' | 'Paused';
  /** Anything configured: snapshot/load is accepted only on a fresh process. */
  configured: boolean;
  hasBootSource: boolean;
}

export interface FakeFirecrackerOptions {
  override?: AnswerOverride;
  /** Listen here (as `firecracker --api-sock` does) instead of in a fresh temp dir. */
  socketPath?: string;
  /** Called after each request that was answered with success. */
  onAccepted?: (request: RecordedRequest) => void;
}

export async function startFakeFirecracker(options: FakeFirecrackerOptions | AnswerOverride = {}): Promise<FakeFirecracker> {
  const { override, socketPath: givenSocket, onAccepted } = typeof options === 'function' ? { override: options } : options;
  const validator = specValidator();
  const dir = givenSocket ? dirname(givenSocket) : await mkdtemp(join(tmpdir(), 'rc-fc-api-'));
  const socketPath = givenSocket ?? join(dir, 'api.sock');
  const requests: RecordedRequest[] = [];
  const state: VmmState = { phase: 'Not started', configured: false, hasBootSource: false };

  const server = createServer((req, res) => {
    void readBody(req).then((rawBody) => {
      const path = req.url ?? '';
      const method = req.method ?? '';
      const matched = validator.findOperation(method, path);
      const violations = validator.validateRequest({ method, path, rawBody });
      let body: unknown;
      try {
        body = rawBody.length > 0 ? JSON.parse(rawBody) : undefined;
      } catch {
        body = rawBody;
      }
      const operationId = matched?.operation.operationId;
      if (violations.length === 0 && operationId !== undefined) violations.push(...applyStateRules(state, operationId, body));
      const recorded: RecordedRequest = { method, path, operationId, body, violations };
      requests.push(recorded);

      const custom = override?.(recorded);
      if (custom === 'hang') return; // never answer: the client's timeout must fire
      if (custom) return send(res, custom.status, custom.body);
      if (violations.length > 0 || !matched) return send(res, 400, JSON.stringify({ fault_message: violations.join('; ') }));
      const success = validator.successResponse(matched.operation);
      onAccepted?.(recorded);
      if (success.status === 204) return send(res, 204);
      const canned = CANNED_ANSWERS[matched.operation.operationId]?.(state);
      const answerViolations = success.schema ? validator.validate(success.schema, canned, 'answer') : [];
      if (answerViolations.length > 0) {
        // A bug in this fake, not in the client: make it visible to the test through `violations`.
        recorded.violations.push(...answerViolations.map((v) => `fake answer breaks the spec: ${v}`));
        return send(res, 500, JSON.stringify({ fault_message: recorded.violations.join('; ') }));
      }
      return send(res, success.status, JSON.stringify(canned));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, resolve);
  });

  return {
    dir,
    socketPath,
    requests,
    validator,
    calls: () => requests.map((r) => `${r.method} ${r.path}`),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (!givenSocket) await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Firecracker's documented sequencing rules, on top of the schema. */
function applyStateRules(state: VmmState, operationId: string, body: unknown): string[] {
  const fields = (body ?? {}) as Record<string, unknown>;
  if (PRE_BOOT_ONLY.has(operationId)) {
    if (state.phase !== 'Not started') return [`${operationId} is pre-boot only`];
    if (operationId === 'putGuestBootSource') state.hasBootSource = true;
    state.configured = true;
    return [];
  }
  switch (operationId) {
    case 'createSyncAction':
      if (fields.action_type === 'InstanceStart') {
        if (state.phase !== 'Not started') return ['the microVM is already running'];
        if (!state.hasBootSource) return ['InstanceStart without a boot source'];
        state.phase = 'Running';
      } else if (fields.action_type === 'SendCtrlAltDel' && state.phase !== 'Running') {
        return ['SendCtrlAltDel needs a running microVM'];
      }
      return [];
    case 'patchVm':
      if (state.phase === 'Not started') return ['the microVM is not started'];
      state.phase = fields.state === 'Paused' ? 'Paused' : 'Running';
      return [];
    case 'createSnapshot':
      return state.phase === 'Paused' ? [] : ['snapshot/create needs a paused microVM'];
    case 'loadSnapshot':
      if (state.configured || state.phase !== 'Not started') return ['snapshot/load is only accepted on a fresh Firecracker process'];
      state.configured = true;
      state.phase = fields.resume_vm === true ? 'Running' : 'Paused';
      return [];
    default:
      return [];
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body?: string): void {
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
}
