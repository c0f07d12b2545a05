import { createHash } from 'node:crypto';

/** Queue names and keys of one deployment (its BullMQ `prefix`, `rc` by default): declared once here. */
export class QueueKeys {
  readonly prefix: string;
  constructor(prefix: string) {
    this.prefix = prefix;
  }
  /** A worker's registration (JSON, with a TTL its heartbeat renews). */
  worker(id: string): string {
    return `${this.prefix}:worker:${id}`;
  }
  /** Sorted set of worker ids scored by when their registration expires: the API lists live workers from it. */
  get workers(): string {
    return `${this.prefix}:workers`;
  }
  /** Hash: profile queue name → its profile (capabilities, default backend, image manifests). */
  get profiles(): string {
    return `${this.prefix}:profiles`;
  }
  /** Pub/sub channel: a token published here is cancelled by the worker running it. */
  get cancel(): string {
    return `${this.prefix}:cancel`;
  }
  /** Pub/sub channel of one API replica: workers publish the results of its synchronous jobs here. */
  reply(replica: string): string {
    return `${this.prefix}:reply:${replica}`;
  }
  /** BullMQ's lock of a job being run (its value is the lock token of the worker holding it). */
  lock(queue: string, id: string): string {
    return `${this.prefix}:${queue}:${id}:lock`;
  }
  /** BullMQ's events stream of a queue (QueueEvents reads it). */
  events(queue: string): string {
    return `${this.prefix}:${queue}:events`;
  }
  /** BullMQ's hash of one job. */
  job(queue: string, id: string): string {
    return `${this.prefix}:${queue}:${id}`;
  }
}

/** One thing a worker can run: `backend:language`. */
export const capability = (backend: string, language: string): string => `${backend}:${language}`;

/**
 * The queue of a capability profile: `exec-` and 12 hex digits of the profile's SHA-256. Workers
 * that can run exactly the same (backend, language) pairs, with the same default backend, share it.
 */
export function profileQueueName(defaultBackend: string, capabilities: readonly string[]): string {
  const profile = [`default=${defaultBackend}`, ...[...capabilities].sort()].join('\n');
  return `exec-${createHash('sha256').update(profile).digest('hex').slice(0, 12)}`;
}
