/**
 * Work done one item at a time per key (a conversation), in the order the items were
 * added, with at most `concurrency` keys at work at once. Keys take turns: after each item
 * a key with more goes to the back of the line, so a busy or failing conversation keeps one
 * slot and never starves the others of theirs.
 *
 * `work` returns true when its item is done, false when it gave up because the lanes are
 * stopping (the item stays, unfinished); it does not throw.
 */
export class ConversationLanes<T> {
  private readonly lanes = new Map<string, T[]>();
  /** Keys with items, waiting for a slot, in turn order. */
  private readonly ready: string[] = [];
  private readonly running = new Set<string>();
  private stopped = false;
  private drained: Array<() => void> = [];

  constructor(
    private readonly concurrency: number,
    private readonly keyOf: (item: T) => string,
    private readonly work: (item: T) => Promise<boolean>,
  ) {}

  push(item: T): void {
    if (this.stopped) return;
    const key = this.keyOf(item);
    const lane = this.lanes.get(key);
    if (lane) {
      lane.push(item);
      return;
    }
    this.lanes.set(key, [item]);
    this.ready.push(key);
    this.pump();
  }

  /** Items waiting or at work. */
  get size(): number {
    let n = 0;
    for (const lane of this.lanes.values()) n += lane.length;
    return n;
  }

  /** Starts no more items; resolves once the items at work have returned. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.ready.length = 0;
    if (this.running.size === 0) return;
    await new Promise<void>((resolve) => this.drained.push(resolve));
  }

  private pump(): void {
    while (!this.stopped && this.running.size < this.concurrency && this.ready.length > 0) {
      const key = this.ready.shift()!;
      this.running.add(key);
      void this.runOne(key);
    }
  }

  private async runOne(key: string): Promise<void> {
    const lane = this.lanes.get(key)!;
    const done = await this.work(lane[0]!);
    if (done) lane.shift();
    this.running.delete(key);
    if (lane.length === 0) this.lanes.delete(key);
    else if (!this.stopped) this.ready.push(key);
    this.pump();
    if (this.running.size === 0 && this.drained.length > 0) {
      const waiting = this.drained;
      this.drained = [];
      for (const resolve of waiting) resolve();
    }
  }
}
