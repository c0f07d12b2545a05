import { randomBytes } from 'node:crypto';

/**
 * The first line the host sends a guest (runner-vminit reads it before the agent starts): the
 * host's clock and 32 bytes of entropy. A VM restored from a snapshot would otherwise run with the
 * snapshot's clock and the same RNG state as every other clone of it.
 */
export function helloLine(now: number = Date.now(), entropy: Buffer = randomBytes(32)): string {
  const seconds = Math.floor(now / 1000);
  const nanos = String((now % 1000) * 1_000_000).padStart(9, '0');
  return `RC-HELLO ${seconds}.${nanos} ${entropy.toString('hex')}\n`;
}
