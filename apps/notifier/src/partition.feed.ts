import type { Consumer, ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import { upcast } from '@chat/domain';
import { nakBackoff, PULL_EXPIRES_MS, readLoggedPayload, settle, type Settlement } from '@chat/messaging';
import type { BatchResult, LoggedEvent } from './batch.notifier';

export interface FeedDeps {
  partition: number;
  /** The notifier's durable consumer of the partition. */
  open: () => Promise<Consumer>;
  handle: (partition: number, events: LoggedEvent[]) => Promise<BatchResult>;
  batchSize: number;
  /** The consumer's ack wait: messages held (queued, at work, waiting for their record) say so twice per wait. */
  ackWaitMs: number;
  log: Pick<Logger, 'warn' | 'error'>;
}

const MAX_RETRY_MS = 5_000;

/**
 * Feeds one partition's events to the notifier in batches: whatever the consumer has
 * delivered while the previous batch was at work (so batches grow under load and a lone
 * message goes through at once). A batch's events are acked after its decisions are
 * recorded, so a crash redelivers them; events whose projection did not come in time are
 * handed back with a delay. A message whose wake-up is still being sent is held (and kept
 * from redelivery) until its decision is recorded, while the next batches go on.
 */
export class PartitionFeed {
  private queue: JsMsg[] = [];
  /** Every message delivered and not settled yet, by seq. */
  private readonly held = new Map<number, JsMsg>();
  private heartbeat?: NodeJS.Timeout;
  private wake?: () => void;
  private stopping = false;
  private loop?: Promise<void>;
  private messages?: ConsumerMessages;
  /** Settlements waiting for a wake-up's decision. */
  private readonly waiting = new Set<Promise<void>>();

  constructor(private readonly deps: FeedDeps) {}

  async start(): Promise<void> {
    await this.subscribe();
    // Batches wait behind each other, for their projection and for provider retries: keep
    // what is held from being redelivered meanwhile.
    this.heartbeat = setInterval(() => {
      for (const m of this.held.values()) m.working();
    }, this.deps.ackWaitMs / 2);
    this.heartbeat.unref();
    this.loop = this.run();
  }

  /**
   * Stops taking batches and waits for the one at work and for the wake-ups its messages
   * wait for (their sender is drained meanwhile); what was delivered but not taken comes
   * back after the ack wait.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
    while (this.waiting.size) await Promise.all([...this.waiting]);
    clearInterval(this.heartbeat);
    await this.messages?.close();
  }

  private async subscribe(): Promise<void> {
    const messages = await (await this.deps.open()).consume({
      max_messages: this.deps.batchSize * 2,
      expires: PULL_EXPIRES_MS,
      callback: (m) => {
        // A redelivery of a message still held: the one held is acked for both.
        if (this.held.has(m.seq)) return;
        this.held.set(m.seq, m);
        this.queue.push(m);
        this.wake?.();
      },
    });
    this.messages = messages;
    void messages.closed().then(() => {
      if (this.stopping || this.messages !== messages) return;
      this.deps.log.warn({ partition: this.deps.partition }, 'notifier consumer closed; reopening');
      void this.resubscribe();
    });
  }

  private async resubscribe(): Promise<void> {
    for (let attempt = 1; !this.stopping; attempt++) {
      try {
        await this.subscribe();
        return;
      } catch (err) {
        this.deps.log.error({ partition: this.deps.partition, err: (err as Error).message }, 'reopening the notifier consumer failed');
        await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** attempt, MAX_RETRY_MS)).unref());
      }
    }
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      if (this.queue.length === 0) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          if (this.stopping || this.queue.length > 0) resolve();
        });
        this.wake = undefined;
        continue;
      }
      await this.process(this.queue.splice(0, this.deps.batchSize));
    }
  }

  private async process(batch: JsMsg[]): Promise<void> {
    try {
      const { later, held } = await this.deps.handle(this.deps.partition, batch.map(readEvent));
      const handBack = new Set(later);
      for (const m of batch) {
        const decided = held?.get(m.seq);
        if (decided) this.settleWhen(m, decided);
        else this.settle(m, handBack.has(m.seq) ? { kind: 'nak', delayMs: nakBackoff(m.info.deliveryCount) } : { kind: 'ack' });
      }
    } catch (err) {
      this.deps.log.error({ partition: this.deps.partition, size: batch.length, err: (err as Error).message }, 'notifier failed on a batch; will retry');
      for (const m of batch) this.settle(m, { kind: 'nak', delayMs: nakBackoff(m.info.deliveryCount) });
    }
  }

  /** Acks once the wake-up's decision is recorded; hands the message back if that failed. It stays held (heartbeats) meanwhile. */
  private settleWhen(m: JsMsg, decided: Promise<void>): void {
    const done = decided
      .then(
        () => this.settle(m, { kind: 'ack' }),
        (err: Error) => {
          this.deps.log.error({ partition: this.deps.partition, seq: m.seq, err: err.message }, 'recording a wake-up failed; will retry');
          this.settle(m, { kind: 'nak', delayMs: nakBackoff(m.info.deliveryCount) });
        },
      )
      // a connection that closed meanwhile: the message comes back after the ack wait
      .catch((err: Error) => this.deps.log.error({ partition: this.deps.partition, seq: m.seq, err: err.message }, 'settling a held message failed'));
    this.waiting.add(done);
    void done.finally(() => this.waiting.delete(done));
  }

  private settle(m: JsMsg, s: Settlement): void {
    if (this.held.get(m.seq) === m) this.held.delete(m.seq);
    settle(m, s);
  }
}

function readEvent(m: JsMsg): LoggedEvent {
  try {
    const event = upcast(readLoggedPayload(m).raw);
    return event ? { seq: m.seq, event } : { seq: m.seq };
  } catch {
    return { seq: m.seq };
  }
}
