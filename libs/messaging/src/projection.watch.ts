import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import type { ProgressNotice } from './delivery.wire';
import type { Names } from './names';

/** Reads how far the projection has committed a partition (its checkpoint), from its store. */
export type CheckpointRead = (partition: number) => Promise<number>;

interface Waiter {
  seq: number;
  resolve: (reached: boolean) => void;
}

/**
 * Knows how far the timeline projection has committed each partition, from the notices
 * the projector publishes after each commit, so that a reader can act once an event's
 * effect is readable: the gateway answers a command, the notifier decides a batch. A
 * notice is cumulative (everything up to its seq), so once one has come for a partition
 * the notices alone tell; the checkpoint is read only before that (what was committed
 * before this process subscribed) and when a wait runs out (a notice lost on a reconnect:
 * core NATS keeps no copy).
 */
export class ProjectionWatch {
  private readonly committed = new Map<number, number>();
  /** Partitions with a notice or a checkpoint read since subscribing. */
  private readonly known = new Set<number>();
  private readonly waiters = new Map<number, Set<Waiter>>();
  private sub?: Subscription;
  private stopped = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly names: Names,
    private readonly readCheckpoint: CheckpointRead,
    /** Whose notices: the timeline's (most readers), or the search index's (the gateway's search). */
    private readonly projection: 'timeline' | 'search' = 'timeline',
  ) {}

  /** Subscribes; resolves once the server has the subscription, so no later notice is missed. */
  async start(): Promise<void> {
    this.sub = this.nc.subscribe(this.names.progress(this.projection), {
      callback: (err, msg) => {
        if (err) return;
        try {
          const notice = msg.json<ProgressNotice>();
          if (Number.isInteger(notice.partition) && Number.isSafeInteger(notice.seq)) {
            this.known.add(notice.partition);
            this.advance(notice.partition, notice.seq);
          }
        } catch {
          // Not a notice: ignore it.
        }
      },
    });
    await this.nc.flush();
  }

  stop(): void {
    this.stopped = true;
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
    if (this.reached(partition) >= seq) return true;
    if (!this.known.has(partition)) {
      // Nothing heard of this partition yet: its last commit may predate the subscription.
      const checkpoint = await this.readCheckpoint(partition);
      this.known.add(partition);
      this.advance(partition, checkpoint);
      // reached(), not the value read: a notice may have come in while the read was under way.
      if (this.reached(partition) >= seq) return true;
    }
    const notified = await new Promise<boolean>((resolve) => {
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
    if (notified || this.stopped) return notified;
    // No notice in time: perhaps it was lost (a reconnect). The store has the last word.
    try {
      this.advance(partition, await this.readCheckpoint(partition));
    } catch {
      return false;
    }
    return this.reached(partition) >= seq;
  }

  private advance(partition: number, seq: number): void {
    if (seq <= (this.committed.get(partition) ?? 0)) return;
    this.committed.set(partition, seq);
    for (const w of this.waiters.get(partition) ?? []) if (w.seq <= seq) w.resolve(true);
  }
}
