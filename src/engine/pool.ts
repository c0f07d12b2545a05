import type { PrestartMessage } from '../protocol/messages.js';
import type { Backend, Sandbox } from '../sandbox/backend.js';
import { DEFAULT_LIMITS, type Limits } from './limits.js';
import { PoolBudget, type BudgetMember } from './pool-budget.js';
import { PRESTART_READY_TIMEOUT_MS } from './prestart.js';

export interface PoolOptions {
  /** Idle sandboxes to keep per image once the image is in use (`sizes` overrides per image). */
  defaultSize: number;
  sizes?: Readonly<Record<string, number>>;
  /** Images to warm at start, before any request. */
  warm?: readonly string[];
  /** Most idle (and starting) sandboxes over all images (of every pool sharing `budget`). */
  maxIdle: number;
  /** Most memory charged to all idle sandboxes together (of every pool sharing `budget`); no refill beyond it. */
  maxIdleMemoryBytes?: number;
  /** The budget this pool shares with other backends' pools (see PoolBudget); else one of its own from the two above. */
  budget?: PoolBudget;
  /** An idle sandbox older than this is replaced by a fresh one. */
  idleTtlMs: number;
  /** An image not asked for in this long shrinks to zero idle sandboxes. */
  shrinkAfterMs: number;
  /**
   * Limits pooled sandboxes start with (else `limitsOf`, else DEFAULT_LIMITS); each request's own
   * limits are applied on take, except those the backend fixes at start (see take).
   */
  limits?: Limits;
  /** Per image, the limits its sandboxes start with until a request asks otherwise (its language's defaults). */
  limitsOf?: (image: string) => Limits;
  /**
   * Per image and start limits, the prestart frame its sandboxes get once up (docs/prestart.md): they
   * are pooled with the interpreter started and waiting, so its start-up (and its memory, which the
   * budget charges) is paid while idle. Undefined: the image has none.
   */
  prestartOf?: (image: string, limits: Limits) => PrestartMessage | undefined;
  /** False: no pre-started interpreters, whatever `prestartOf` says (default true). */
  prestart?: boolean;
  /** Called with start failures (logging); the pool itself just tries again on the next take. */
  onError?: (err: unknown, image: string) => void;
}

/** How many idle sandboxes a pool keeps per image: `sizes[image]`, else `defaultSize`. */
export type PoolSizes = Pick<PoolOptions, 'defaultSize' | 'sizes'>;

interface Idle {
  sandbox: Sandbox;
  since: number;
}

/** The sandboxes of one image started with one set of the backend's fixedAtStart values. */
interface ImagePool {
  image: string;
  rootfs: string;
  /** What its sandboxes start with. */
  limits: Limits;
  /** Whether these are the image's own start limits (a warm image keeps this pool filled). */
  initial: boolean;
  target: number;
  idle: Idle[];
  starting: number;
  hits: number;
  misses: number;
  /** Idle sandboxes destroyed to make room for a higher-ranked pool sharing the budget. */
  evicted: number;
  lastUsed: number;
  /**
   * The most memory one of its idle sandboxes was seen charged: what one more is expected to take
   * (0 until one is measured). Per pool, not per backend: a python sandbox and a node one, or VMs
   * of different RAM, are charged very differently.
   */
  memoryEach: number;
}

export interface PoolImageStats {
  image: string;
  target: number;
  idle: number;
  starting: number;
  hits: number;
  misses: number;
  evicted: number;
  last_used: string | null;
  /** Memory charged to its idle sandboxes now. */
  idle_memory_bytes: number;
  /**
   * What the budget expects one more idle sandbox of this image to take: the most one was seen
   * charged idle (the largest over its pools of different start limits); 0 until one is measured.
   */
  expected_memory_bytes: number;
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
export class SandboxPool implements BudgetMember {
  readonly #backend: Backend;
  readonly #options: PoolOptions;
  readonly #budget: PoolBudget;
  readonly #pools = new Map<string, ImagePool>();
  readonly #timer: NodeJS.Timeout;
  /** Destroys started outside a caller's await (evictions, dead or expired idle sandboxes): close() waits for them. */
  readonly #destroying = new Set<Promise<void>>();
  /**
   * While one #refill decides (a synchronous pass), each idle sandbox's memory reading: the budget
   * asks memory() again for every start it admits, and those asks get the reading the pass began
   * with instead of reading the cgroup again (before: three reads per idle sandbox per refill).
   */
  #readings: Map<Sandbox, number> | undefined;
  #closed = false;

  constructor(backend: Backend, options: PoolOptions) {
    this.#backend = backend;
    this.#options = options;
    this.#budget = options.budget ?? new PoolBudget(options);
    this.#budget.join(this);
    this.#timer = setInterval(() => this.#maintain(), Math.min(5_000, Math.max(100, options.idleTtlMs / 4)));
    this.#timer.unref();
  }

  /** Starts filling the pools of the `warm` images right away. */
  warm(rootfsOf: (image: string) => string): void {
    for (const image of this.#options.warm ?? []) this.#refill(this.#pool(image, rootfsOf(image), this.#initialLimits(image)));
  }

  /**
   * A healthy ready sandbox of this image for an execution with these limits, or undefined (a
   * miss). Never waits. A sandbox is taken only from the pool whose start limits have the same
   * values of the backend's fixedAtStart (a VM's RAM cannot grow after boot): a request that
   * differs there misses, and its own pool fills for the next one like it.
   */
  take(image: string, rootfs: string, limits: Limits): Sandbox | undefined {
    if (this.#closed) return undefined;
    const pool = this.#pool(image, rootfs, { ...this.#initialLimits(image), ...this.#fixedOf(limits) });
    pool.lastUsed = Date.now();
    pool.target = this.#sizeOf(image);
    let found: Sandbox | undefined;
    while (!found && pool.idle.length > 0) {
      const { sandbox } = pool.idle.shift()!;
      if (sandbox.alive) found = sandbox;
      else this.#destroyLater(sandbox, pool.image);
    }
    if (found) pool.hits++;
    else pool.misses++;
    // Refill after the caller has sent its job: starting a sandbox forks this process, which
    // would otherwise sit on the request's critical path.
    setImmediate(() => this.#refill(pool));
    return found;
  }

  /** One entry per image, its pools of every start limits summed. */
  stats(): PoolStats {
    const all = [...this.#pools.values()];
    const images = new Map<string, PoolImageStats & { lastUsed: number }>();
    let idleMemory = 0;
    for (const p of all) {
      const entry =
        images.get(p.image) ?? { image: p.image, target: 0, idle: 0, starting: 0, hits: 0, misses: 0, evicted: 0, last_used: null, idle_memory_bytes: 0, expected_memory_bytes: 0, lastUsed: 0 };
      const charged = this.#idleMemoryOf(p);
      idleMemory += charged;
      entry.idle_memory_bytes += charged;
      entry.expected_memory_bytes = Math.max(entry.expected_memory_bytes, p.memoryEach);
      entry.target += p.target;
      entry.idle += p.idle.length;
      entry.starting += p.starting;
      entry.hits += p.hits;
      entry.misses += p.misses;
      entry.evicted += p.evicted;
      entry.lastUsed = Math.max(entry.lastUsed, p.lastUsed);
      images.set(p.image, entry);
    }
    return {
      images: [...images.values()].map(({ lastUsed, ...entry }) => ({ ...entry, last_used: lastUsed ? new Date(lastUsed).toISOString() : null })),
      idle_total: all.reduce((sum, p) => sum + p.idle.length, 0),
      max_idle: this.#budget.maxIdle,
      idle_memory_bytes: idleMemory,
    };
  }

  /** Destroys every idle sandbox and stops refilling. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    this.#budget.leave(this);
    const idle = [...this.#pools.values()].flatMap((p) => p.idle.splice(0));
    await Promise.all(idle.map((i) => i.sandbox.destroy()));
    // Sandboxes still starting are destroyed as they become ready (see #startOne).
    while ([...this.#pools.values()].some((p) => p.starting > 0)) await new Promise((resolve) => setTimeout(resolve, 10));
    await Promise.all(this.#destroying);
  }

  /** Destroys a sandbox nobody waits for, tracked so that close() does; a failure is reported, not thrown. */
  #destroyLater(sandbox: Sandbox, image: string): void {
    const destroying: Promise<void> = sandbox
      .destroy()
      .catch((err: unknown) => this.#options.onError?.(err, image))
      .finally(() => this.#destroying.delete(destroying));
    this.#destroying.add(destroying);
  }

  #pool(image: string, rootfs: string, limits: Limits): ImagePool {
    const fixed = this.#fixedOf(limits);
    const key = JSON.stringify([image, fixed]);
    let pool = this.#pools.get(key);
    if (!pool) {
      const initial = JSON.stringify(this.#fixedOf(this.#initialLimits(image))) === JSON.stringify(fixed);
      pool = { image, rootfs, limits, initial, target: this.#sizeOf(image), idle: [], starting: 0, hits: 0, misses: 0, evicted: 0, lastUsed: 0, memoryEach: 0 };
      this.#pools.set(key, pool);
    }
    return pool;
  }

  #initialLimits(image: string): Limits {
    return this.#options.limits ?? this.#options.limitsOf?.(image) ?? DEFAULT_LIMITS;
  }

  /** The values of the limits the backend fixes at start, in its order. */
  #fixedOf(limits: Limits): Partial<Limits> {
    return Object.fromEntries(this.#backend.fixedAtStart.map((key) => [key, limits[key]]));
  }

  #sizeOf(image: string): number {
    return this.#options.sizes?.[image] ?? this.#options.defaultSize;
  }

  pooled(): number {
    let count = 0;
    for (const p of this.#pools.values()) count += p.idle.length + p.starting;
    return count;
  }

  memory(): number {
    let bytes = 0;
    for (const p of this.#pools.values()) bytes += this.#idleMemoryOf(p) + p.starting * p.memoryEach;
    return bytes;
  }

  shortfall(): { count: number; memory: number } {
    let count = 0;
    let memory = 0;
    for (const p of this.#pools.values()) {
      const lacking = Math.max(0, p.target - p.idle.length - p.starting);
      count += lacking;
      memory += lacking * p.memoryEach;
    }
    return { count, memory };
  }

  evictOne(): boolean {
    let oldest: { pool: ImagePool; index: number; since: number } | undefined;
    for (const pool of this.#pools.values()) {
      pool.idle.forEach((entry, index) => {
        if (!oldest || entry.since < oldest.since) oldest = { pool, index, since: entry.since };
      });
    }
    if (!oldest) return false;
    const [{ sandbox }] = oldest.pool.idle.splice(oldest.index, 1) as [Idle];
    oldest.pool.evicted++;
    this.#destroyLater(sandbox, oldest.pool.image);
    return true;
  }

  /** Memory charged to the pool's idle sandboxes now; each reading raises what one more is expected to take. */
  #idleMemoryOf(pool: ImagePool): number {
    let bytes = 0;
    for (const i of pool.idle) {
      let charged = this.#readings?.get(i.sandbox);
      if (charged === undefined) {
        charged = i.sandbox.memoryCurrentBytes() ?? 0;
        this.#readings?.set(i.sandbox, charged);
      }
      pool.memoryEach = Math.max(pool.memoryEach, charged);
      bytes += charged;
    }
    return bytes;
  }

  #refill(pool: ImagePool): void {
    // (A refill inside a refill, should one ever happen, keeps the outer pass's readings.)
    const outer = this.#readings;
    this.#readings ??= new Map();
    try {
      this.#refillPass(pool);
    } finally {
      this.#readings = outer;
    }
  }

  #refillPass(pool: ImagePool): void {
    while (!this.#closed && pool.idle.length + pool.starting < pool.target && !this.#unmeasured(pool)) {
      // Under a cap, measure its idle sandboxes first: what is expected of the next one may have just
      // been learnt. Without one nothing is charged against anything (no cgroup reads per refill).
      if (this.#budget.maxIdleMemoryBytes !== undefined) this.#idleMemoryOf(pool);
      if (!this.#budget.admit(this, pool.memoryEach)) break;
      this.#startOne(pool);
    }
  }

  /**
   * Whether, under a memory cap, another start of this pool must wait: until one of its sandboxes has
   * been measured idle, nobody knows what one takes (a bwrap sandbox under 1 MiB, a pre-started node
   * over 20, a VM over 100), so its first ones start one at a time and each that becomes idle starts
   * the next (#startOne). Other pools' measurements say nothing about this one's.
   */
  #unmeasured(pool: ImagePool): boolean {
    return this.#budget.maxIdleMemoryBytes !== undefined && pool.memoryEach === 0 && pool.starting > 0;
  }

  #startOne(pool: ImagePool): void {
    pool.starting++;
    void (async () => {
      let sandbox: Sandbox | undefined;
      let pooled = false;
      try {
        sandbox = await this.#backend.start({ image: pool.image, rootfs: pool.rootfs, limits: pool.limits, traceId: `pool-${pool.image}` });
        await sandbox.ready();
        await this.#prestart(sandbox, pool);
        if (this.#closed || pool.idle.length >= pool.target) await sandbox.destroy();
        else {
          pool.idle.push({ sandbox, since: Date.now() });
          // Measured as soon as it waits, so that one taken before any refill still counts.
          pool.memoryEach = Math.max(pool.memoryEach, sandbox.memoryCurrentBytes() ?? 0);
          pooled = true;
        }
      } catch (err) {
        await sandbox?.destroy();
        this.#options.onError?.(err, pool.image);
      } finally {
        pool.starting--;
      }
      // Its memory is known now: the starts that waited for it (#unmeasured) go on.
      if (pooled) this.#refill(pool);
    })();
  }

  /** Starts the image's interpreter in the sandbox; one that does not start leaves a sandbox fit for a cold start. */
  async #prestart(sandbox: Sandbox, pool: ImagePool): Promise<void> {
    const frame = this.#options.prestart === false ? undefined : this.#options.prestartOf?.(pool.image, pool.limits);
    if (!frame) return;
    const answer = await sandbox.prestart(frame, PRESTART_READY_TIMEOUT_MS + 5_000);
    if (!answer.ready) this.#options.onError?.(new Error(`the pre-started interpreter did not start: ${answer.message ?? 'no reason given'}`), pool.image);
  }

  /** Replaces expired idle sandboxes, drops dead ones, shrinks images (and limits) nobody uses. */
  #maintain(): void {
    const now = Date.now();
    for (const [key, pool] of this.#pools) {
      const warm = pool.initial && (this.#options.warm ?? []).includes(pool.image);
      if (pool.target > 0 && now - pool.lastUsed > this.#options.shrinkAfterMs && !warm) pool.target = 0;
      const keep: Idle[] = [];
      for (const entry of pool.idle) {
        const expired = now - entry.since > this.#options.idleTtlMs;
        if (entry.sandbox.alive && !expired && keep.length < pool.target) keep.push(entry);
        else this.#destroyLater(entry.sandbox, pool.image);
      }
      pool.idle = keep;
      this.#refill(pool);
      // A pool for other limits than the image's own goes once it has shrunk to nothing.
      if (!pool.initial && pool.target === 0 && pool.idle.length === 0 && pool.starting === 0) this.#pools.delete(key);
    }
  }
}
