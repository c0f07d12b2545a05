import type { Session } from './session.js';

/** How often the reaper looks: well under the shortest idle timeout a session may ask for (1 s); a scan of the few live sessions costs nothing. */
const REAP_EVERY_MS = 250;

/**
 * Ends expired sessions: past their absolute lifetime (even while an execution runs: the
 * lifetime is a hard cap), idle past their idle timeout, or whose sandbox died on its own. The
 * timer never keeps the process alive.
 */
export class SessionReaper {
  readonly #timer: NodeJS.Timeout;

  constructor(sessions: () => Iterable<Session>, end: (session: Session) => void) {
    this.#timer = setInterval(() => {
      const now = Date.now();
      for (const session of [...sessions()]) {
        if (session.expired(now) || !session.sandbox.alive) end(session);
      }
    }, REAP_EVERY_MS);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
