import type { Logger } from 'pino';
import type { OnlineRange } from '@chat/storage';
import type { OnlineSeen } from './batch.decider';
import { OnlineRanges } from './online.ranges';

export interface OnlineStore {
  recordOnline(ranges: OnlineRange[]): Promise<void>;
}

export interface OnlineRecorderOptions {
  /** How often the ranges are written. */
  intervalMs: number;
  /** Write before the interval is over once this many ranges are held. */
  maxRanges: number;
}

export const ONLINE_FLUSH: OnlineRecorderOptions = { intervalMs: 5_000, maxRanges: 10_000 };

/**
 * Records the `online` decisions: held in memory as ranges (OnlineRanges) and written in one
 * statement per interval and at shutdown, rather than one row per recipient and message.
 * Acks do not wait for them: `online` explains why nobody was woken, it wakes nobody, and
 * holding a busy partition's acks for an interval would stall its consumer at its
 * max_ack_pending. A crashed notifier loses at most the last interval of them (written in
 * docs/protocol.md).
 */
export class OnlineRecorder {
  private readonly ranges = new OnlineRanges();
  private timer?: NodeJS.Timeout;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: OnlineStore,
    private readonly log: Pick<Logger, 'warn'>,
    private readonly options: OnlineRecorderOptions = ONLINE_FLUSH,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.options.intervalMs);
    this.timer.unref();
  }

  /** Writes what is held, then stops. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  /** Takes one batch's decisions: `online` ones fold into ranges, any other one ends that user's range in that conversation. */
  note(online: readonly OnlineSeen[], others: ReadonlyArray<{ userId: string; conversationId: string }>): void {
    for (const d of others) this.ranges.interrupt(d.userId, d.conversationId);
    for (const d of online) this.ranges.add(d.userId, d.conversationId, d.seq);
    if (this.ranges.size >= this.options.maxRanges) void this.flush();
  }

  /** Writes every range held in one statement; on failure keeps them for the next try. */
  flush(): Promise<void> {
    this.writing = this.writing.then(() => this.write());
    return this.writing;
  }

  private async write(): Promise<void> {
    const ranges = this.ranges.take();
    if (ranges.length === 0) return;
    try {
      await this.store.recordOnline(ranges);
    } catch (err) {
      this.log.warn({ ranges: ranges.length, err: (err as Error).message }, 'writing online decisions failed; will retry');
      this.ranges.restore(ranges);
    }
  }
}
