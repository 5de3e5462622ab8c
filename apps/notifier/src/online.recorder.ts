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
  /** Write before the interval is over once this many ranges are held... */
  maxRanges: number;
  /** ...or this many messages wait for the write (their acks wait with them). */
  maxWaiting: number;
}

export const ONLINE_FLUSH: OnlineRecorderOptions = { intervalMs: 1_000, maxRanges: 10_000, maxWaiting: 500 };

/**
 * Records the `online` decisions: held in memory as ranges (OnlineRanges) and written in one
 * statement per interval and at shutdown, rather than one row per recipient and message.
 * A batch's messages are acked only once its ranges are written, so a crash redelivers
 * them and the ranges are made again: no decision goes unrecorded.
 */
export class OnlineRecorder {
  private readonly ranges = new OnlineRanges();
  private waiting: Array<() => void> = [];
  private waitingMessages = 0;
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

  /**
   * Takes one batch's decisions: `online` ones fold into ranges, any other one ends that
   * user's range in that conversation. Resolves once the batch's ranges are written
   * (at once when it has none); `messages` is how many messages wait for that.
   */
  note(online: readonly OnlineSeen[], others: ReadonlyArray<{ userId: string; conversationId: string }>, messages: number): Promise<void> {
    for (const d of others) this.ranges.interrupt(d.userId, d.conversationId);
    if (online.length === 0) return Promise.resolve();
    for (const d of online) this.ranges.add(d.userId, d.conversationId, d.seq);
    return new Promise<void>((resolve) => {
      this.waiting.push(resolve);
      this.waitingMessages += messages;
      if (this.ranges.size >= this.options.maxRanges || this.waitingMessages >= this.options.maxWaiting) void this.flush();
    });
  }

  /** Writes every range held in one statement; on failure keeps them for the next try. */
  flush(): Promise<void> {
    this.writing = this.writing.then(() => this.write());
    return this.writing;
  }

  private async write(): Promise<void> {
    const ranges = this.ranges.take();
    const waiting = this.waiting;
    const messages = this.waitingMessages;
    this.waiting = [];
    this.waitingMessages = 0;
    try {
      await this.store.recordOnline(ranges);
    } catch (err) {
      this.log.warn({ ranges: ranges.length, err: (err as Error).message }, 'writing online decisions failed; will retry');
      this.ranges.restore(ranges);
      this.waiting = [...waiting, ...this.waiting];
      this.waitingMessages += messages;
      return;
    }
    for (const resolve of waiting) resolve();
  }
}
