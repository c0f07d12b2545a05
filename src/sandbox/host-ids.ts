import { randomInt } from 'node:crypto';
import { ErrorCodes, SandboxError } from '../errors.js';

/**
 * A block of host uids (each used as the gid too) that sandboxes run as. The lower half holds the
 * agents' (and VMMs') uids, the upper half the programs': slot i is agent `first + i` and program
 * `first + half + i`.
 */
export interface HostIdRange {
  first: number;
  count: number;
}

/**
 * Default block: 65536 ids from 0x70000000, above the ranges systemd hands to containers
 * (524288–1879048191) and below the signed-int boundary, so no account or subuid range uses them.
 */
export const DEFAULT_HOST_ID_RANGE: HostIdRange = { first: 0x7000_0000, count: 65_536 };

export function validateHostIdRange(range: HostIdRange): void {
  const { first, count } = range;
  const last = first + count - 1;
  if (!Number.isInteger(first) || !Number.isInteger(count) || count < 2 || first < 1 || last >= 0xffff_fffe) {
    throw new SandboxError(ErrorCodes.HOST_DEPENDENCY, `invalid sandbox host id range ${first}+${count}: must be a block of at least 2 non-root uids (agent and program)`);
  }
}

/** How many sandboxes a range holds at once: one agent uid and one program uid each. */
function slots(range: HostIdRange): number {
  return Math.floor(range.count / 2);
}

/** The program's host uid in the sandbox whose agent runs as `agentUid`: never the agent's. */
export function programUidOf(range: HostIdRange, agentUid: number): number {
  return agentUid + slots(range);
}

export function inHostIdRange(range: HostIdRange, id: number): boolean {
  return id >= range.first && id < range.first + range.count;
}

/**
 * Hands every live sandbox a host uid of its own, so that even if its namespaces failed it could
 * not signal, ptrace or read the processes and files of another sandbox, and per-user kernel
 * limits (inotify, user namespaces, message queues) are not shared. Ids held by other engine
 * processes are learnt from `othersInUse` (the sandbox cgroup names carry them); a random start
 * keeps two processes that read the same list at once from picking the same id.
 */
export class HostIdAllocator {
  readonly range: HostIdRange;
  readonly #held = new Set<number>();

  constructor(range: HostIdRange = DEFAULT_HOST_ID_RANGE) {
    validateHostIdRange(range);
    this.range = range;
  }

  /** An agent uid (the program's is `programUidOf` it). */
  acquire(othersInUse: () => Iterable<number | undefined> = () => []): number {
    const { first } = this.range;
    const count = slots(this.range);
    // A one-slot range is a deliberate shared pair (weaker: only the namespaces separate sandboxes).
    if (count === 1) return first;
    const taken = new Set<number | undefined>(othersInUse());
    const start = randomInt(count);
    for (let i = 0; i < count; i++) {
      const id = first + ((start + i) % count);
      if (this.#held.has(id) || taken.has(id)) continue;
      this.#held.add(id);
      return id;
    }
    throw new SandboxError(ErrorCodes.SANDBOX_START, `all ${count} sandbox host ids are in use`);
  }

  /** Call only once every process of the sandbox is gone (its cgroup destroyed). */
  release(id: number): void {
    this.#held.delete(id);
  }

  get held(): number {
    return this.#held.size;
  }
}
