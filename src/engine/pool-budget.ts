/** What a pool tells the budget it shares with the other backends' pools. */
export interface BudgetMember {
  /** Idle and starting sandboxes. */
  pooled(): number;
  /** Memory its idle sandboxes are charged now, plus what its starting ones are expected to take. */
  memory(): number;
  /** Sandboxes its images lack to reach their targets, and the memory they are expected to take. */
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

  /** Whether `member` may start one more sandbox now (evicting lower-ranked idle sandboxes for it if need be). */
  admit(member: BudgetMember): boolean {
    const rank = this.#members.indexOf(member);
    if (rank < 0) return false;
    const above = this.#members.slice(0, rank).map((m) => m.shortfall());
    const reservedCount = above.reduce((sum, s) => sum + s.count, 0);
    const reservedMemory = above.reduce((sum, s) => sum + s.memory, 0);
    const below = this.#members.slice(rank + 1).reverse();
    for (;;) {
      const count = this.#members.reduce((sum, m) => sum + m.pooled(), 0) + reservedCount;
      const memory = this.maxIdleMemoryBytes === undefined ? 0 : this.#members.reduce((sum, m) => sum + m.memory(), 0) + reservedMemory;
      if (count < this.maxIdle && (this.maxIdleMemoryBytes === undefined || memory < this.maxIdleMemoryBytes)) return true;
      if (!below.some((m) => m.evictOne())) return false;
    }
  }
}
