import { ErrorCodes, RunnerError } from '../../errors.js';
import type { SessionOwner } from './session-service.js';
import type { SessionSettings } from './session-settings.js';

const MiB = 1024 * 1024;

/** A place held for one session being opened or alive; release() gives it back once. */
export interface SessionReservation {
  release(): void;
}

/**
 * The server's caps on sessions: how many one owner holds, how many in all, and the memory budget
 * every live session is charged its memory limit against. A reservation is taken before a session's
 * sandbox starts (so concurrent creates cannot overshoot) and released when the session ends.
 */
export class SessionCaps {
  readonly #settings: SessionSettings;
  readonly #perOwner = new Map<SessionOwner, number>();
  #total = 0;
  #memory = 0;

  constructor(settings: SessionSettings) {
    this.#settings = settings;
  }

  get memoryBytes(): number {
    return this.#memory;
  }

  /** Holds a place for a session of `owner` with `memoryBytes`, or throws RC_ERR_SESSION_LIMIT (HTTP 429) naming the cap. */
  reserve(owner: SessionOwner, memoryBytes: number): SessionReservation {
    const mine = this.#perOwner.get(owner) ?? 0;
    const { maxPerKey, maxTotal, memoryBudgetBytes } = this.#settings;
    if (mine >= maxPerKey) throw limit(`this API key holds ${mine} sessions, the most it may (sessions_per_key ${maxPerKey}); delete one or let one expire`);
    if (this.#total >= maxTotal) throw limit(`the server holds ${this.#total} sessions, the most it may (sessions_max ${maxTotal})`);
    if (this.#memory + memoryBytes > memoryBudgetBytes) {
      throw limit(`a session of ${memoryBytes / MiB} MiB would take the sessions' memory past the server's budget (${this.#memory / MiB} of ${memoryBudgetBytes / MiB} MiB in use)`);
    }
    this.#perOwner.set(owner, mine + 1);
    this.#total++;
    this.#memory += memoryBytes;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        const left = (this.#perOwner.get(owner) ?? 1) - 1;
        if (left > 0) this.#perOwner.set(owner, left);
        else this.#perOwner.delete(owner);
        this.#total--;
        this.#memory -= memoryBytes;
      },
    };
  }
}

function limit(message: string): RunnerError {
  return new RunnerError(ErrorCodes.SESSION_LIMIT, message);
}
