/** What a batch gives back for one of its items: its result, or the Error it failed with. */
export type Outcome<R> = R | Error;

export interface BatcherOptions {
  /** Items one batch takes at most. */
  maxBatch: number;
  /** Batches under way at once; items that arrive meanwhile wait and go together. */
  maxInFlight: number;
  /** The error an item gets when its deadline passed before a batch took it. */
  expired: () => Error;
  now?: () => number;
}

interface Waiting<I, R> {
  item: I;
  deadline: number;
  resolve: (result: R) => void;
  reject: (err: Error) => void;
}

/**
 * Turns items that arrive together into batches: while `maxInFlight` batches are under
 * way, new items queue in arrival order, and the next batch takes up to `maxBatch` of
 * them. When nothing is under way, a batch starts once the current turn of the event
 * loop has handed in what it had (setImmediate), so an idle system adds no wait. An item
 * still queued at its deadline is failed with `expired()` instead of being run late.
 */
export class Batcher<I, R> {
  private readonly queue: Array<Waiting<I, R>> = [];
  private inFlight = 0;
  private scheduled = false;
  private idleWaiters: Array<() => void> = [];
  private readonly now: () => number;

  constructor(
    private readonly run: (items: I[], deadline: number) => Promise<Array<Outcome<R>>>,
    private readonly opts: BatcherOptions,
  ) {
    this.now = opts.now ?? Date.now;
  }

  /** Items waiting for a batch. */
  get waiting(): number {
    return this.queue.length;
  }

  submit(item: I, deadline: number): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, deadline, resolve, reject });
      this.schedule();
    });
  }

  /** Resolves once nothing is queued or under way (for shutdown). */
  idle(): Promise<void> {
    if (this.queue.length === 0 && this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.opts.maxInFlight) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.startBatches();
    });
  }

  private startBatches(): void {
    while (this.inFlight < this.opts.maxInFlight && this.queue.length > 0) {
      const now = this.now();
      const taken: Array<Waiting<I, R>> = [];
      while (taken.length < this.opts.maxBatch && this.queue.length > 0) {
        const next = this.queue.shift()!;
        if (next.deadline <= now) next.reject(this.opts.expired());
        else taken.push(next);
      }
      if (taken.length) void this.runBatch(taken);
    }
    this.notifyIfIdle();
  }

  private async runBatch(batch: Array<Waiting<I, R>>): Promise<void> {
    this.inFlight++;
    try {
      // The batch may work until its earliest deadline: no item waits longer than it was promised.
      const outcomes = await this.run(batch.map((w) => w.item), Math.min(...batch.map((w) => w.deadline)));
      batch.forEach((w, i) => {
        const outcome = outcomes[i];
        if (outcome instanceof Error) w.reject(outcome);
        else if (outcome === undefined && i >= outcomes.length) w.reject(new Error('batch gave no outcome'));
        else w.resolve(outcome as R);
      });
    } catch (err) {
      for (const w of batch) w.reject(err instanceof Error ? err : new Error(String(err)));
    } finally {
      this.inFlight--;
      if (this.queue.length > 0) this.startBatches();
      else this.notifyIfIdle();
    }
  }

  private notifyIfIdle(): void {
    if (this.queue.length > 0 || this.inFlight > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
