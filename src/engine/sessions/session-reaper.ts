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

  constructor(sessions: () => Iterable<Session>, end: (session: Session, reason: string) => void) {
    this.#timer = setInterval(() => {
      const now = Date.now();
      for (const session of [...sessions()]) {
        if (now >= session.endsAt) end(session, 'its lifetime is over');
        else if (!session.sandbox.alive) end(session, 'its sandbox died');
        else if (session.expired(now)) end(session, `it was idle for ${session.idleMs} ms`);
      }
    }, REAP_EVERY_MS);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
