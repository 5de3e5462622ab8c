import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import type { Names, ProgressNotice } from '@chat/messaging';
import type { ReadModelRepository } from '@chat/storage';

interface Waiter {
  seq: number;
  resolve: (reached: boolean) => void;
}

/**
 * Knows how far the timeline projection has committed each partition, from the notices
 * the projector publishes, so a command can answer once its effect is readable.
 */
export class ProjectionWatch {
  private readonly committed = new Map<number, number>();
  private readonly waiters = new Map<number, Set<Waiter>>();
  private sub?: Subscription;

  constructor(
    private readonly nc: NatsConnection,
    private readonly names: Names,
    private readonly readModel: ReadModelRepository,
  ) {}

  start(): void {
    this.sub = this.nc.subscribe(this.names.progress('timeline'), {
      callback: (err, msg) => {
        if (err) return;
        try {
          const notice = msg.json<ProgressNotice>();
          if (Number.isInteger(notice.partition) && Number.isSafeInteger(notice.seq)) this.advance(notice.partition, notice.seq);
        } catch {
          // Not a notice: ignore it.
        }
      },
    });
  }

  stop(): void {
    this.sub?.unsubscribe();
    for (const set of this.waiters.values()) for (const w of set) w.resolve(false);
    this.waiters.clear();
  }

  /** The highest seq of `partition` known to be committed (it may be further already). */
  reached(partition: number): number {
    return this.committed.get(partition) ?? 0;
  }

  /**
   * Resolves true once `seq` of `partition` is committed, false if that does not happen
   * within `timeoutMs` (the event is in the log all the same; it will be applied).
   */
  async waitFor(partition: number, seq: number, timeoutMs: number): Promise<boolean> {
    if ((this.committed.get(partition) ?? 0) >= seq) return true;
    // A notice may have been published before this process subscribed: ask the database once.
    const checkpoint = (await this.readModel.checkpoints()).get(partition) ?? 0;
    this.advance(partition, checkpoint);
    if (checkpoint >= seq) return true;
    return new Promise<boolean>((resolve) => {
      const set = this.waiters.get(partition) ?? new Set<Waiter>();
      this.waiters.set(partition, set);
      const waiter: Waiter = {
        seq,
        resolve: (ok) => {
          clearTimeout(timer);
          set.delete(waiter);
          resolve(ok);
        },
      };
      const timer = setTimeout(() => waiter.resolve(false), timeoutMs);
      set.add(waiter);
    });
  }

  private advance(partition: number, seq: number): void {
    if (seq <= (this.committed.get(partition) ?? 0)) return;
    this.committed.set(partition, seq);
    for (const w of this.waiters.get(partition) ?? []) if (w.seq <= seq) w.resolve(true);
  }
}
