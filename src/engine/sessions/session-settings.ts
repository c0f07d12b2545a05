import { InvalidRequestError } from '../../errors.js';

const MiB = 1024 * 1024;
/** Below a second the reaper's own tick would decide a session's life. */
const MIN_TIMEOUT_MS = 1000;

/** What the server allows sessions: their lifetimes, how many, how much memory and disk. */
export interface SessionSettings {
  /** Idle timeout of a session that asks for none. */
  idleTimeoutMs: number;
  /** Longest idle timeout a session may ask for. */
  maxIdleTimeoutMs: number;
  /** Absolute lifetime of every session (a session may ask for less, never more). */
  maxLifetimeMs: number;
  /** Sessions one API key may hold at once. */
  maxPerKey: number;
  /** Sessions on the server at once. */
  maxTotal: number;
  /** Sum of the memory limits of every live session (each is charged its limit while it lives). */
  memoryBudgetBytes: number;
  /** Largest file put into or read from a session. */
  maxFileBytes: number;
  /** Most bytes of files in a session's work directory a put may bring it to. */
  maxSessionBytes: number;
  /** Most entries one listing returns (the rest is flagged `truncated`). */
  maxListEntries: number;
}

export const DEFAULT_SESSION_SETTINGS: SessionSettings = {
  idleTimeoutMs: 5 * 60_000,
  maxIdleTimeoutMs: 60 * 60_000,
  maxLifetimeMs: 60 * 60_000,
  maxPerKey: 8,
  maxTotal: 64,
  memoryBudgetBytes: 8192 * MiB,
  maxFileBytes: 8 * MiB,
  maxSessionBytes: 64 * MiB,
  maxListEntries: 10_000,
};

/** A session's idle timeout and lifetime: what it asked for, bounded by the server (400 naming the field beyond). */
export function sessionTimeouts(request: { idleTimeoutMs?: number; lifetimeMs?: number }, settings: SessionSettings): { idleMs: number; lifetimeMs: number } {
  const bounded = (value: number | undefined, fallback: number, max: number, field: string): number => {
    if (value === undefined) return Math.min(fallback, max);
    if (!Number.isSafeInteger(value) || value < MIN_TIMEOUT_MS) throw new InvalidRequestError(field, `must be an integer of at least ${MIN_TIMEOUT_MS} ms`);
    if (value > max) throw new InvalidRequestError(field, `must be at most ${max} ms (server maximum)`);
    return value;
  };
  return {
    idleMs: bounded(request.idleTimeoutMs, settings.idleTimeoutMs, settings.maxIdleTimeoutMs, 'idle_timeout_ms'),
    lifetimeMs: bounded(request.lifetimeMs, settings.maxLifetimeMs, settings.maxLifetimeMs, 'lifetime_ms'),
  };
}
