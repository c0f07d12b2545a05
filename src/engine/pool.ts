import type { Backend, Sandbox } from '../sandbox/backend.js';
import { DEFAULT_LIMITS, type Limits } from './limits.js';

export interface PoolOptions {
  /** Idle sandboxes to keep per image once the image is in use (`sizes` overrides per image). */
  defaultSize: number;
  sizes?: Readonly<Record<string, number>>;
  /** Images to warm at start, before any request. */
  warm?: readonly string[];
  /** Most idle (and starting) sandboxes over all images. */
  maxIdle: number;
  /** Most memory charged to all idle sandboxes together; no refill beyond it. */
  maxIdleMemoryBytes?: number;
  /** An idle sandbox older than this is replaced by a fresh one. */
  idleTtlMs: number;
  /** An image not asked for in this long shrinks to zero idle sandboxes. */
  shrinkAfterMs: number;
  /** Limits pooled sandboxes start with; each request's own limits are applied on take. */
  limits?: Limits;
  /** Called with start failures (logging); the pool itself just tries again on the next take. */
  onError?: (err: unknown, image: string) => void;
}

interface Idle {
  sandbox: Sandbox;
  since: number;
}

interface ImagePool {
  image: string;
  rootfs: string;
  target: number;
  idle: Idle[];
  starting: number;
  hits: number;
  misses: number;
  lastUsed: number;
}

export interface PoolImageStats {
  image: string;
  target: number;
  idle: number;
  starting: number;
  hits: number;
  misses: number;
  last_used: string | null;
}

export interface PoolStats {
  images: PoolImageStats[];
  idle_total: number;
  max_idle: number;
  /** Memory charged to the idle sandboxes' cgroups now. */
  idle_memory_bytes: number;
}

/**
 * Warm pool: sandboxes started ahead of demand (namespaces, cgroup, mounts, agent up and waiting
 * for its job frame). Each is handed out for exactly one execution, which destroys it; the pool
 * refills in the background. A take that finds nothing healthy is a miss, and the engine starts a
 * sandbox cold as before.
 */
export class SandboxPool {
  readonly #backend: Backend;
  readonly #options: PoolOptions;
  readonly #pools = new Map<string, ImagePool>();
  readonly #timer: NodeJS.Timeout;
  #closed = false;

  constructor(backend: Backend, options: PoolOptions) {
    this.#backend = backend;
    this.#options = options;
    this.#timer = setInterval(() => this.#maintain(), Math.min(5_000, Math.max(100, options.idleTtlMs / 4)));
    this.#timer.unref();
  }

  /** Starts filling the pools of the `warm` images right away. */
  warm(rootfsOf: (image: string) => string): void {
    for (const image of this.#options.warm ?? []) this.#refill(this.#pool(image, rootfsOf(image)));
  }

  /** A healthy ready sandbox of this image, or undefined (a miss). Never waits. */
  take(image: string, rootfs: string): Sandbox | undefined {
    if (this.#closed) return undefined;
    const pool = this.#pool(image, rootfs);
    pool.lastUsed = Date.now();
    pool.target = this.#sizeOf(image);
    let found: Sandbox | undefined;
    while (!found && pool.idle.length > 0) {
      const { sandbox } = pool.idle.shift()!;
      if (sandbox.alive) found = sandbox;
      else void sandbox.destroy();
    }
    if (found) pool.hits++;
    else pool.misses++;
    // Refill after the caller has sent its job: starting a sandbox forks this process, which
    // would otherwise sit on the request's critical path.
    setImmediate(() => this.#refill(pool));
    return found;
  }

  stats(): PoolStats {
    const all = [...this.#pools.values()];
    return {
      images: all.map((p) => ({
        image: p.image,
        target: p.target,
        idle: p.idle.length,
        starting: p.starting,
        hits: p.hits,
        misses: p.misses,
        last_used: p.lastUsed ? new Date(p.lastUsed).toISOString() : null,
      })),
      idle_total: all.reduce((sum, p) => sum + p.idle.length, 0),
      max_idle: this.#options.maxIdle,
      idle_memory_bytes: this.#idleMemory(),
    };
  }

  /** Destroys every idle sandbox and stops refilling. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    const idle = [...this.#pools.values()].flatMap((p) => p.idle.splice(0));
    await Promise.all(idle.map((i) => i.sandbox.destroy()));
    // Sandboxes still starting are destroyed as they become ready (see #startOne).
    while ([...this.#pools.values()].some((p) => p.starting > 0)) await new Promise((resolve) => setTimeout(resolve, 10));
  }

  #pool(image: string, rootfs: string): ImagePool {
    let pool = this.#pools.get(image);
    if (!pool) {
      pool = { image, rootfs, target: this.#sizeOf(image), idle: [], starting: 0, hits: 0, misses: 0, lastUsed: 0 };
      this.#pools.set(image, pool);
    }
    return pool;
  }

  #sizeOf(image: string): number {
    return this.#options.sizes?.[image] ?? this.#options.defaultSize;
  }

  #pooledCount(): number {
    let count = 0;
    for (const p of this.#pools.values()) count += p.idle.length + p.starting;
    return count;
  }

  #idleMemory(): number {
    let bytes = 0;
    for (const p of this.#pools.values()) for (const i of p.idle) bytes += i.sandbox.stats().memoryCurrentBytes ?? 0;
    return bytes;
  }

  #refill(pool: ImagePool): void {
    // Idle memory cannot change while this loop only starts sandboxes: read the cgroups once.
    if (this.#options.maxIdleMemoryBytes !== undefined && this.#idleMemory() >= this.#options.maxIdleMemoryBytes) return;
    while (!this.#closed && pool.idle.length + pool.starting < pool.target && this.#pooledCount() < this.#options.maxIdle) {
      this.#startOne(pool);
    }
  }

  #startOne(pool: ImagePool): void {
    pool.starting++;
    void (async () => {
      let sandbox: Sandbox | undefined;
      try {
        sandbox = await this.#backend.start({ image: pool.image, rootfs: pool.rootfs, limits: this.#options.limits ?? DEFAULT_LIMITS, traceId: `pool-${pool.image}` });
        await sandbox.ready();
        if (this.#closed || pool.idle.length >= pool.target) await sandbox.destroy();
        else pool.idle.push({ sandbox, since: Date.now() });
      } catch (err) {
        await sandbox?.destroy();
        this.#options.onError?.(err, pool.image);
      } finally {
        pool.starting--;
      }
    })();
  }

  /** Replaces expired idle sandboxes, drops dead ones, shrinks images nobody uses. */
  #maintain(): void {
    const now = Date.now();
    for (const pool of this.#pools.values()) {
      if (pool.target > 0 && now - pool.lastUsed > this.#options.shrinkAfterMs && !(this.#options.warm ?? []).includes(pool.image)) pool.target = 0;
      const keep: Idle[] = [];
      for (const entry of pool.idle) {
        const expired = now - entry.since > this.#options.idleTtlMs;
        if (entry.sandbox.alive && !expired && keep.length < pool.target) keep.push(entry);
        else void entry.sandbox.destroy();
      }
      pool.idle = keep;
      this.#refill(pool);
    }
  }
}
