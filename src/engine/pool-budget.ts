/**
 * What a pool tells the budget it shares with the other backends' pools. Memory is in bytes, and what
 * a sandbox not yet idle is "expected to take" is the member's own estimate for its image and start
 * limits (the most one of them was seen charged idle; 0 while none has been measured).
 */
export interface BudgetMember {
  /** Idle and starting sandboxes. */
  pooled(): number;
  /** Memory its idle sandboxes are charged now, plus what its starting ones are expected to take. */
  memory(): number;
  /** Sandboxes its images lack to reach their targets, and the memory they are expected to take (summed per image). */
  shortfall(): { count: number; memory: number };
  /** Destroys its oldest idle sandbox to make room; false when it has none. */
  evictOne(): boolean;
}

export interface PoolBudgetOptions {
  /** Most idle (and starting) sandboxes over every member. */
  maxIdle: number;
  /** Most memory charged to every member's idle sandboxes together. */
  maxIdleMemoryBytes?: number;
}

/**
 * The idle capacity every backend's warm pool of one service shares: one count and one memory cap
 * over all of them, so that offering another backend does not multiply what idle sandboxes may take.
 * Members rank in the order they join (the default backend's pool first). A member starts a
 * sandbox only with room left after what the members ranked above it still lack; when there is no
 * room, it evicts idle sandboxes of members ranked below it. So booted VMs fill what the default
 * backend's pool leaves, and give it back when it needs it.
 */
export class PoolBudget {
  readonly maxIdle: number;
  readonly maxIdleMemoryBytes: number | undefined;
  readonly #members: BudgetMember[] = [];

  constructor(options: PoolBudgetOptions) {
    this.maxIdle = options.maxIdle;
    this.maxIdleMemoryBytes = options.maxIdleMemoryBytes;
  }

  join(member: BudgetMember): void {
    if (!this.#members.includes(member)) this.#members.push(member);
  }

  leave(member: BudgetMember): void {
    const index = this.#members.indexOf(member);
    if (index >= 0) this.#members.splice(index, 1);
  }

  /**
   * Whether `member` may start one more sandbox now, expected to take `expectedBytes` once idle
   * (evicting lower-ranked idle sandboxes for it if need be). Under a memory cap it must fit beside
   * what every member holds and what the members ranked above it still lack. 0 means not measured
   * yet: the start is admitted while the cap has any room left (the member starts such sandboxes one
   * at a time until one is measured).
   */
  admit(member: BudgetMember, expectedBytes: number): boolean {
    const rank = this.#members.indexOf(member);
    if (rank < 0) return false;
    const above = this.#members.slice(0, rank).map((m) => m.shortfall());
    const reservedCount = above.reduce((sum, s) => sum + s.count, 0);
    const reservedMemory = above.reduce((sum, s) => sum + s.memory, 0);
    const below = this.#members.slice(rank + 1).reverse();
    const cap = this.maxIdleMemoryBytes;
    const fits = (count: number, memory: number) =>
      count < this.maxIdle && (cap === undefined || (expectedBytes > 0 ? memory + expectedBytes <= cap : memory < cap));
    // What evicting every lower-ranked idle sandbox could not free: with no room even then, evict none.
    const kept = this.#members.slice(0, rank + 1);
    const memoryOf = (members: BudgetMember[]) => (cap === undefined ? 0 : members.reduce((sum, m) => sum + m.memory(), 0));
    if (!fits(kept.reduce((sum, m) => sum + m.pooled(), 0) + reservedCount, memoryOf(kept) + reservedMemory)) return false;
    for (;;) {
      if (fits(this.#members.reduce((sum, m) => sum + m.pooled(), 0) + reservedCount, memoryOf(this.#members) + reservedMemory)) return true;
      if (!below.some((m) => m.evictOne())) return false;
    }
  }
}
