// The conflict detector's git work, bounded: at most one operation at a time per worktree (across every detector of
// this process — two git commands on one index fight over index.lock), and at most `max` in flight overall.

/** Git activity as the queue ran it; a test and diagnostics hook. */
export interface GitStats {
  calls: number;
  running: number;
  maxRunning: number;
  /** Highest number of operations ever in flight in one worktree (must stay 1). */
  maxPerWorktree: number;
}

class Limiter {
  private active = 0;
  private readonly queue: (() => void)[] = [];
  constructor(private readonly max: number) {}
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active < this.max) this.active++;
    else await new Promise<void>((r) => this.queue.push(r)); // the releasing task hands its slot over
    try {
      return await fn();
    } finally {
      const next = this.queue.shift();
      if (next) next();
      else this.active--;
    }
  }
}

// Git operations per worktree, one at a time, across all queues of this process.
const worktreeTails = new Map<string, Promise<void>>();

async function serialized<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const prev = worktreeTails.get(key) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((r) => (release = r));
  const tail = prev.then(() => mine);
  worktreeTails.set(key, tail);
  await prev;
  try {
    return await fn();
  } finally {
    release();
    if (worktreeTails.get(key) === tail) worktreeTails.delete(key);
  }
}

export class GitQueue {
  readonly stats: GitStats = { calls: 0, running: 0, maxRunning: 0, maxPerWorktree: 0 };
  private readonly limiter: Limiter;
  private readonly inWorktree = new Map<string, number>();

  constructor(max: number) {
    this.limiter = new Limiter(Math.max(1, max));
  }

  /** One git operation: serialized per worktree (its canonical path; null = not tied to one), bounded overall. */
  run<T>(worktree: string | null, fn: () => Promise<T>): Promise<T> {
    const st = this.stats;
    const counted = async (): Promise<T> => {
      st.calls++;
      st.running++;
      st.maxRunning = Math.max(st.maxRunning, st.running);
      if (worktree !== null) {
        const n = (this.inWorktree.get(worktree) ?? 0) + 1;
        this.inWorktree.set(worktree, n);
        st.maxPerWorktree = Math.max(st.maxPerWorktree, n);
      }
      try {
        return await fn();
      } finally {
        st.running--;
        if (worktree !== null) {
          const n = (this.inWorktree.get(worktree) ?? 1) - 1;
          if (n > 0) this.inWorktree.set(worktree, n);
          else this.inWorktree.delete(worktree);
        }
      }
    };
    // Worktree lock first, then a global slot: nobody holds a global slot while waiting for a worktree.
    return worktree === null ? this.limiter.run(counted) : serialized(worktree, () => this.limiter.run(counted));
  }
}
