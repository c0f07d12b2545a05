import { ErrorCodes, isRunnerError } from '../errors.js';
import type { SessionOwner, SessionService } from '../engine/sessions/session-service.js';

/**
 * The sessions one MCP connection created without keep_alive: they end when the connection does
 * (its stdio closed, its HTTP session deleted or expired). A session created after the end (its
 * create_session was still running) ends at once.
 */
export class ConnectionSessions {
  readonly owner: SessionOwner;
  readonly #sessions: SessionService;
  readonly #tied = new Set<string>();
  readonly #log: (message: string) => void;
  #ended: Promise<void> | undefined;

  constructor(sessions: SessionService, owner: SessionOwner, log: (message: string) => void) {
    this.#sessions = sessions;
    this.owner = owner;
    this.#log = log;
  }

  /** Ties a new session to the connection. */
  tie(id: string): void {
    if (this.#ended) void this.#remove(id);
    else this.#tied.add(id);
  }

  /** The session ended before the connection did (close_session). */
  untie(id: string): void {
    this.#tied.delete(id);
  }

  /** Ends every tied session. Idempotent. */
  end(): Promise<void> {
    this.#ended ??= Promise.all([...this.#tied].map((id) => this.#remove(id))).then(() => this.#tied.clear());
    return this.#ended;
  }

  async #remove(id: string): Promise<void> {
    try {
      await this.#sessions.remove(this.owner, id);
    } catch (err) {
      // Already gone (reaped, or closed through the REST API) is the goal reached.
      if (!isRunnerError(err) || err.code !== ErrorCodes.NOT_FOUND) this.#log(`ending session ${id} with its MCP connection failed: ${(err as Error).message}`);
    }
  }
}
