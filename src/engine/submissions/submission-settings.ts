/** How callbacks are allowed, signed and retried (docs/api.md, "Callbacks"). */
export interface CallbackSettings {
  /** `HOST` or `HOST:PORT` entries a callback_url may name; empty: callbacks are refused. */
  allowlist: readonly string[];
  /** The HMAC-SHA256 key of `X-Runner-Codes-Signature`. */
  secret: string;
  /** Deliveries tried at most (the first included). */
  attempts: number;
  /** Wait before the second attempt; it doubles for each further one. */
  backoffMs: number;
  /** One attempt's bound: connect, send, and the receiver's answer. */
  timeoutMs: number;
}

/** What submissions keep and for how long, and how long a GET may wait. */
export interface SubmissionSettings {
  /** A finished submission is kept this long, then gone (404). */
  ttlMs: number;
  /** Each stored output stream (stdout, stderr, the compile stage's) is cut here, and the output files share one such budget. */
  maxOutputBytes: number;
  /** Most records held at once; the oldest finished ones make room first. */
  maxStored: number;
  /** Longest `?wait=true`. */
  maxWaitMs: number;
  callbacks: CallbackSettings;
}

export const DEFAULT_CALLBACK_SETTINGS: CallbackSettings = { allowlist: [], secret: '', attempts: 5, backoffMs: 1000, timeoutMs: 10_000 };

export const DEFAULT_SUBMISSION_SETTINGS: SubmissionSettings = {
  ttlMs: 3600_000,
  maxOutputBytes: 1024 * 1024,
  maxStored: 10_000,
  maxWaitMs: 30_000,
  callbacks: DEFAULT_CALLBACK_SETTINGS,
};

/** The wait before attempt `attempt` (2, 3, ...): BullMQ's `exponential` backoff, so both modes retry alike. */
export function callbackBackoffMs(settings: Pick<CallbackSettings, 'backoffMs'>, attempt: number): number {
  return settings.backoffMs * 2 ** (attempt - 2);
}
