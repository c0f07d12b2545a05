import { createHmac, timingSafeEqual } from 'node:crypto';

/** The headers of a callback (docs/api.md, "Callbacks"). */
export const CALLBACK_HEADERS = {
  signature: 'x-runner-codes-signature',
  token: 'x-runner-codes-token',
  timestamp: 'x-runner-codes-timestamp',
} as const;

/**
 * The signature of a callback: `sha256=` and the hex HMAC-SHA256, keyed with callback_secret, of
 * `<timestamp>.<body>` — the X-Runner-Codes-Timestamp value (Unix seconds), a dot, and the exact
 * body bytes. Signing the timestamp lets receivers refuse replays of old deliveries.
 */
export function signCallback(body: string, timestamp: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** What a receiver does: recompute and compare in constant time. */
export function verifyCallback(body: string, timestamp: string, signature: string, secret: string): boolean {
  const expected = Buffer.from(signCallback(body, timestamp, secret));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
