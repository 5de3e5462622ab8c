/**
 * Commits of the projector's partitions, grouped: what waits while one statement runs goes
 * in the next, in one transaction (one round trip, one WAL flush for every partition), and
 * statements start at most every `intervalMs`, so that under load each carries many events
 * while a lone event after a quiet spell goes at once. A group that fails is committed
 * again one batch at a time, so each batch gets its own outcome (another writer moved one
 * partition's checkpoint; one batch holds copies of sends).
 */
export class GroupCommit<T> {
  private waiting: Array<{ item: T; resolve: () => void; reject: (err: unknown) => void }> = [];
  private running = false;
  private timer?: NodeJS.Timeout;
  private lastStart = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly commitAll: (items: T[]) => Promise<void>,
    private readonly commitOne: (item: T) => Promise<void>,
    private readonly intervalMs: number,
  ) {}

  commit(item: T): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.running || this.timer) return;
    const wait = this.lastStart + this.intervalMs - performance.now();
    // A macrotask at least: the commits handed over in the same turn go together.
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, Math.max(0, wait));
  }

  private async flush(): Promise<void> {
    const group = this.waiting;
    this.waiting = [];
    if (group.length === 0) return;
    this.running = true;
    this.lastStart = performance.now();
    try {
      if (group.length > 1) {
        try {
          await this.commitAll(group.map((g) => g.item));
          for (const g of group) g.resolve();
          return;
        } catch {
          // One of them failed the whole group: learn which, one statement each.
        }
      }
      for (const g of group) await this.commitOne(g.item).then(g.resolve, g.reject);
    } finally {
      this.running = false;
      if (this.waiting.length) this.schedule();
    }
  }
}
