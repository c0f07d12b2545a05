import type { Redis } from 'ioredis';
import { ErrorCodes, RunnerError } from '../errors.js';
import type { ImageManifest } from '../images/manifest.js';
import { capability, type QueueKeys } from './queue-keys.js';
import type { ProfileRecord, WorkerRecord } from './job-data.js';

/** One live profile queue: its profile and the workers serving it now. */
export interface LiveQueue {
  profile: ProfileRecord;
  workers: WorkerRecord[];
}

/** Where a job goes: a profile queue and the backend it runs on there. */
export interface Route {
  queue: string;
  backend: string;
}

/**
 * The API's view of the worker fleet, refreshed from Redis in the background (every
 * `refreshMs`): live workers by profile queue, and profiles with no live worker (orphans). Routing
 * reads only this memory: no Redis round trip on the hot path.
 */
export class Fleet {
  readonly #redis: Redis;
  readonly #keys: QueueKeys;
  readonly #refreshMs: number;
  #profiles = new Map<string, ProfileRecord>();
  #live = new Map<string, LiveQueue>();
  /** Jobs this API has in each queue that did not finish yet (the load between heartbeats). */
  readonly #pending = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #refreshedAt = 0;
  #refreshing: Promise<void> | undefined;
  /** Where the last refresh failed (Redis down): routing then fails with QUEUE_UNAVAILABLE. */
  #lastError: unknown;

  constructor(redis: Redis, keys: QueueKeys, refreshMs = 1000) {
    this.#redis = redis;
    this.#keys = keys;
    this.#refreshMs = refreshMs;
  }

  /** Reads the fleet once, then keeps it fresh until stop(). */
  async start(): Promise<void> {
    await this.refresh();
    this.#timer = setInterval(() => void this.refresh(), this.#refreshMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  get live(): ReadonlyMap<string, LiveQueue> {
    return this.#live;
  }

  /** Every profile ever registered (its queue may have jobs), live or not. */
  get profiles(): ReadonlyMap<string, ProfileRecord> {
    return this.#profiles;
  }

  /** Redis could not be read at the last refresh. */
  get unavailable(): boolean {
    return this.#lastError !== undefined;
  }

  refresh(): Promise<void> {
    this.#refreshing ??= this.#read().finally(() => (this.#refreshing = undefined));
    return this.#refreshing;
  }

  async #read(): Promise<void> {
    try {
      const now = Date.now();
      const [[, ids], [, queues]] = (await this.#redis.multi().zrangebyscore(this.#keys.workers, now, '+inf').hkeys(this.#keys.profiles).exec()) as [[null, string[]], [null, string[]]];
      const unknown = queues.filter((queue) => !this.#profiles.has(queue));
      const pipeline = this.#redis.pipeline();
      if (ids.length > 0) pipeline.mget(ids.map((id) => this.#keys.worker(id)));
      if (unknown.length > 0) pipeline.hmget(this.#keys.profiles, ...unknown);
      // Registrations whose TTL ran out: their sorted-set entries go too (any API may do this).
      pipeline.zremrangebyscore(this.#keys.workers, '-inf', now - 60_000);
      const replies = (await pipeline.exec()) ?? [];
      const records = ids.length > 0 ? ((replies.shift()?.[1] as (string | null)[]) ?? []) : [];
      const profiles = unknown.length > 0 ? ((replies.shift()?.[1] as (string | null)[]) ?? []) : [];
      unknown.forEach((queue, i) => {
        const json = profiles[i];
        if (json) this.#profiles.set(queue, JSON.parse(json) as ProfileRecord);
      });
      for (const queue of this.#profiles.keys()) if (!queues.includes(queue)) this.#profiles.delete(queue);
      const live = new Map<string, LiveQueue>();
      for (const json of records) {
        if (!json) continue;
        const worker = JSON.parse(json) as WorkerRecord;
        const profile = this.#profiles.get(worker.queue);
        if (!profile) continue;
        const entry = live.get(worker.queue) ?? { profile, workers: [] };
        entry.workers.push(worker);
        live.set(worker.queue, entry);
      }
      this.#live = live;
      this.#refreshedAt = Date.now();
      this.#lastError = undefined;
    } catch (err) {
      this.#lastError = err;
    }
  }

  /** Counts a job this API added to `queue` until it finished (call the returned function then). */
  track(queue: string): () => void {
    this.#pending.set(queue, (this.#pending.get(queue) ?? 0) + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.#pending.set(queue, (this.#pending.get(queue) ?? 1) - 1);
    };
  }

  /**
   * The least-loaded live queue that runs `language` on `backend` (or, with none asked for, on the
   * queue's default backend first). None: RC_ERR_NO_WORKER naming what the live workers offer. A
   * miss on a view older than a quarter second re-reads the fleet once (a worker that just started).
   */
  async route(language: string, backend: string | undefined): Promise<Route> {
    const found = this.#pick(language, backend);
    if (found) return found;
    if (Date.now() - this.#refreshedAt > 250) {
      await this.refresh();
      const again = this.#pick(language, backend);
      if (again) return again;
    }
    if (this.unavailable) throw new RunnerError(ErrorCodes.QUEUE_UNAVAILABLE, 'the queue (Redis) cannot be reached right now; retry shortly', { cause: this.#lastError });
    throw this.noWorker(language, backend);
  }

  noWorker(language: string, backend: string | undefined): RunnerError {
    const offered = [...new Set([...this.#live.values()].flatMap((q) => q.profile.capabilities))].sort();
    const wanted = backend ? `'${language}' on backend '${backend}'` : `'${language}'`;
    const what = offered.length === 0 ? 'no worker is live' : `live workers offer ${summarize(offered)}`;
    return new RunnerError(ErrorCodes.NO_WORKER, `no live worker runs ${wanted}: ${what}`, {
      hint: 'start `infra.operator worker --queue …` on a host with that image built and backend available',
    });
  }

  #pick(language: string, backend: string | undefined): Route | undefined {
    let best: { route: Route; load: number; preferred: boolean } | undefined;
    for (const [queue, { profile, workers }] of this.#live) {
      const on = backend ?? (profile.capabilities.includes(capability(profile.defaultBackend, language)) ? profile.defaultBackend : profile.capabilities.find((c) => c.endsWith(`:${language}`))?.split(':')[0]);
      if (on === undefined || !profile.capabilities.includes(capability(on, language))) continue;
      const slots = workers.reduce((sum, w) => sum + w.concurrency, 0) || 1;
      const load = (workers.reduce((sum, w) => sum + w.running, 0) + (this.#pending.get(queue) ?? 0)) / slots;
      const preferred = backend !== undefined || on === profile.defaultBackend;
      if (!best || (preferred && !best.preferred) || (preferred === best.preferred && load < best.load)) best = { route: { queue, backend: on }, load, preferred };
    }
    return best?.route;
  }

  /** Every backend live workers offer, the most common default first. */
  backends(): string[] {
    const counts = new Map<string, number>();
    for (const { profile, workers } of this.#live.values()) counts.set(profile.defaultBackend, (counts.get(profile.defaultBackend) ?? 0) + workers.length);
    const defaults = [...counts].sort((a, b) => b[1] - a[1]).map(([name]) => name);
    const all = [...this.#live.values()].flatMap((q) => q.profile.capabilities.map((c) => c.split(':')[0]!));
    return [...new Set([...defaults, ...all])];
  }

  /** The manifest of an image as a live worker has it (the newest build), or null. */
  manifest(image: string): ImageManifest | null {
    let found: ImageManifest | null = null;
    for (const { profile } of this.#live.values()) {
      const manifest = profile.manifests[image];
      if (manifest && (!found || manifest.built_at > found.built_at)) found = manifest;
    }
    return found;
  }

  /** Live executions over the fleet (heartbeats) and jobs this API waits for. */
  load(): { running: number; slots: number; pending: number } {
    let running = 0;
    let slots = 0;
    for (const { workers } of this.#live.values()) for (const w of workers) ((running += w.running), (slots += w.concurrency));
    const pending = [...this.#pending.values()].reduce((a, b) => a + b, 0);
    return { running, slots, pending };
  }
}

/** A list of capabilities, shortened for a message: languages grouped by backend. */
function summarize(capabilities: readonly string[]): string {
  const byBackend = new Map<string, string[]>();
  for (const c of capabilities) {
    const [backend, language] = c.split(':') as [string, string];
    byBackend.set(backend, [...(byBackend.get(backend) ?? []), language]);
  }
  return [...byBackend].map(([backend, langs]) => `${backend}: ${langs.length > 12 ? `${langs.slice(0, 12).join(', ')} and ${langs.length - 12} more` : langs.join(', ')}`).join('; ');
}
