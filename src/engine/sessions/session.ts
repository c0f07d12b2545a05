import type { LanguageSpec } from '../../languages/types.js';
import type { Engine } from '../engine.js';
import type { Kernel } from '../kernel.js';
import type { Sandbox } from '../../sandbox/backend.js';
import type { Limits } from '../limits.js';
import type { LimitRequest } from '../limits.js';
import type { AgentSession } from '../../sandbox/agent-session.js';
import type { SessionInfo, SessionOwner } from './session-service.js';

/** What a session is made of, fixed when it opens. */
export interface SessionParts {
  id: string;
  owner: SessionOwner;
  /** The engine of its backend: its sandbox's, and what resolves each execution's limits. */
  engine: Engine;
  language: LanguageSpec;
  version: string | null;
  /** The limits it asked for (each execution resolves its own from these plus its `timeout`). */
  limitRequest: LimitRequest;
  limits: Limits;
  env: Record<string, string>;
  idleMs: number;
  lifetimeMs: number;
  sandbox: Sandbox;
  agent: AgentSession;
}

/**
 * One live session: a sandbox whose agent is in session mode, who owns it, and its two deadlines.
 * The idle deadline moves with every use and while an execution runs; the absolute one never moves.
 */
export class Session {
  readonly id: string;
  readonly owner: SessionOwner;
  readonly engine: Engine;
  readonly language: LanguageSpec;
  readonly version: string | null;
  readonly limitRequest: LimitRequest;
  readonly limits: Limits;
  readonly env: Readonly<Record<string, string>>;
  readonly idleMs: number;
  readonly sandbox: Sandbox;
  readonly agent: AgentSession;
  readonly createdAt: number;
  readonly endsAt: number;
  #lastUsed: number;
  #running = 0;
  #ended: Promise<void> | undefined;
  #endReason: string | undefined;
  #kernel: Promise<Kernel> | undefined;

  constructor(parts: SessionParts, now = Date.now()) {
    this.id = parts.id;
    this.owner = parts.owner;
    this.engine = parts.engine;
    this.language = parts.language;
    this.version = parts.version;
    this.limitRequest = parts.limitRequest;
    this.limits = parts.limits;
    this.env = parts.env;
    this.idleMs = parts.idleMs;
    this.sandbox = parts.sandbox;
    this.agent = parts.agent;
    this.createdAt = now;
    this.endsAt = now + parts.lifetimeMs;
    this.#lastUsed = now;
  }

  get running(): number {
    return this.#running;
  }

  get ended(): boolean {
    return this.#ended !== undefined;
  }

  /** When it ends unless used before: the sooner of the idle and the absolute deadline. */
  expiresAt(): number {
    return Math.min(this.#lastUsed + this.idleMs, this.endsAt);
  }

  /** Whether the reaper should end it now: past its absolute end, or idle past its idle deadline. */
  expired(now = Date.now()): boolean {
    return now >= this.endsAt || (this.#running === 0 && now >= this.#lastUsed + this.idleMs);
  }

  touch(now = Date.now()): void {
    this.#lastUsed = now;
  }

  /** Runs `work` as a use of the session: not idle while it runs, touched when it ends. */
  async use<T>(work: () => Promise<T>): Promise<T> {
    this.#running++;
    this.touch();
    try {
      return await work();
    } finally {
      this.#running--;
      this.touch();
    }
  }

  info(): SessionInfo {
    return {
      id: this.id,
      language: this.language.id,
      backend: this.engine.backend.name,
      version: this.version,
      created_at: new Date(this.createdAt).toISOString(),
      expires_at: new Date(this.expiresAt()).toISOString(),
      max_expires_at: new Date(this.endsAt).toISOString(),
      idle_timeout_ms: this.idleMs,
      last_used_at: new Date(this.#lastUsed).toISOString(),
      running: this.#running,
      memory_bytes: this.limits.memoryBytes,
    };
  }

  /** Its interpreter kernel, started by `start` on first use and kept for every later cell. */
  kernel(start: () => Promise<Kernel>): Promise<Kernel> {
    if (!this.#kernel) {
      this.#kernel = start();
      // A kernel that failed to start is tried again on the next cell.
      this.#kernel.catch(() => (this.#kernel = undefined));
    }
    return this.#kernel;
  }

  /** Why it ended (for executions it cut short), once it has. */
  get endReason(): string | undefined {
    return this.#endReason;
  }

  /** Destroys the sandbox (every process in it, its cgroup, its files). Idempotent; the first reason stays. */
  end(reason: string): Promise<void> {
    this.#endReason ??= reason;
    // A cell still running ends as closed, not as a kernel to restart.
    void this.#kernel?.then((kernel) => kernel.close()).catch(() => undefined);
    this.#ended ??= this.sandbox.destroy();
    return this.#ended;
  }
}
