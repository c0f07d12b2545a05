import { ErrorCodes, RunnerError } from '../errors.js';
import type { SessionService } from '../engine/sessions/session-service.js';

/** The refusal of a feature that needs a sandbox on this host: RC_ERR_NOT_IN_QUEUE_MODE (HTTP 501), naming what to do. */
export function notInQueueMode(what: string): RunnerError {
  return new RunnerError(ErrorCodes.NOT_IN_QUEUE_MODE, `${what}: not available on an API in queue mode (--queue), as a session's sandbox stays on one host; use the API of a sandbox host itself (infra.operator api without --queue), see docs/queue.md`, {
    hint: "call the sessions API of a sandbox host's own `infra.operator api` (without --queue); docs/queue.md, Sessions",
  });
}

const refuse = (): Promise<never> => Promise.reject(notInQueueMode('sessions'));

/**
 * Sessions in queue mode: every call refused, never pretended. A session is a sandbox that lives on
 * one host, and a queued job may run on any worker.
 */
export const REFUSED_SESSIONS: SessionService = {
  create: refuse,
  get: refuse,
  list: refuse,
  keepalive: refuse,
  remove: refuse,
  execute: refuse,
  runCode: refuse,
  putFile: refuse,
  getFile: refuse,
  listFiles: refuse,
  deleteFile: refuse,
};
