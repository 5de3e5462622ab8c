/**
 * Users' last activity (handshakes and disconnects), gathered in memory and written in
 * one statement per flush rather than one per event: the push notifier only asks whether
 * a user was seen within CHAT_PUSH_ACTIVE_WITHIN (days), so a few seconds late costs
 * nothing, while a storm of reconnects no longer queues thousands of upserts on the pool.
 * A flush that fails keeps its entries for the next one.
 */
export class ActivityLog {
  private pending = new Map<string, Date>();
  private flushing?: Promise<void>;

  constructor(private readonly write: (activity: ReadonlyMap<string, Date>) => Promise<void>) {}

  /** Users seen and not written yet. */
  get size(): number {
    return this.pending.size;
  }

  note(userId: string, at = new Date()): void {
    const known = this.pending.get(userId);
    if (!known || known < at) this.pending.set(userId, at);
  }

  /** Writes what was noted so far; one flush at a time, a second caller waits for it then writes what came since. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing.catch(() => undefined);
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    this.flushing = this.write(batch).then(
      () => undefined,
      (err: unknown) => {
        for (const [userId, at] of batch) this.note(userId, at);
        throw err;
      },
    ).finally(() => {
      this.flushing = undefined;
    });
    await this.flushing;
  }
}
