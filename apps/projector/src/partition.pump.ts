import type { Consumer, ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import { PULL_EXPIRES_MS, settle } from '@chat/messaging';

export interface PumpBatch {
  partition: number;
  /** The checkpoint this batch continues from. */
  fromSeq: number;
  messages: JsMsg[];
}

export interface PumpDeps {
  partition: number;
  afterSeq: number;
  batchSize: number;
  /** Recreates the durable consumer right after `afterSeq` and returns it. */
  openConsumer: (afterSeq: number) => Promise<Consumer>;
  /** The stream's first sequence, to tell a retention gap from a pending redelivery. */
  firstSeq: () => Promise<number>;
  handle: (batch: PumpBatch) => Promise<void>;
  /**
   * Another writer moved the checkpoint past this pump (a rebuild swapped in a projection
   * that is ahead): returns the checkpoint to continue from.
   */
  resync: (err: unknown) => Promise<number | undefined>;
  /** Whether a failed batch is handed over again at once, without counting as a failure. */
  foldAgain?: (err: unknown) => boolean;
  /** Runs after a batch is committed and before it is acked (a test hook uses it to crash there). */
  afterCommit?: () => void;
  logger: Logger;
  /**
   * Whether the stream holds entry `seq` (false: it has none there; a throw: unknown).
   * Without it a hole is never skipped.
   */
  hasEntry?: (seq: number) => Promise<boolean>;
  /** Tests only: GAP_CHECK_MS and GAP_REOPEN_MS. */
  gapMs?: { check: number; reopen: number };
}

const GAP_CHECK_MS = 2_000;
/**
 * How long an event may be missing while later ones are here before the consumer is
 * reopened at the checkpoint. A delivery lost on the way (the link between the consumer's
 * leader and the server this process is connected to cut, then back) otherwise comes back
 * only after the ack wait (CHAT_PROJECTOR_ACK_WAIT, 30 s), and the partition stands still
 * meanwhile. A redelivery on its way arrives well within this.
 */
const GAP_REOPEN_MS = 5_000;
/** Batches with the handler at once: one committing, one folded on its result. */
const PIPELINE_DEPTH = 2;
/** See `earlyFold`. */
const EARLY_FOLD_EVENTS = 64;
const MAX_RETRY_MS = 5_000;

/**
 * Feeds one partition's events to the handler strictly in sequence order, in batches, and
 * acks a batch only after the handler committed it. Under load, events pile up while a
 * batch commits, so batches grow by themselves; when idle, a single event goes through
 * at once. Redeliveries and anything at or below the checkpoint are dropped by seq.
 */
export class PartitionPump {
  private readonly buffer = new Map<number, JsMsg>();
  private expected: number;
  private messages?: ConsumerMessages;
  private consumer?: Consumer;
  private wake?: () => void;
  private stopping = false;
  private loop?: Promise<void>;
  private gapSince?: number;
  private reopening?: Promise<void>;
  /** Since when `expected` has been missing while later events wait (cleared by each commit). */
  private missingSince?: number;
  private readonly gapMs: { check: number; reopen: number };

  /** Events that must be waiting before the next batch is folded while one commits. */
  private readonly earlyFold: number;

  constructor(private readonly deps: PumpDeps) {
    this.gapMs = deps.gapMs ?? { check: GAP_CHECK_MS, reopen: GAP_REOPEN_MS };
    this.expected = deps.afterSeq + 1;
    this.earlyFold = Math.min(EARLY_FOLD_EVENTS, deps.batchSize);
  }

  async start(): Promise<void> {
    await this.subscribe();
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
    await this.messages?.close();
  }

  private async subscribe(): Promise<void> {
    await this.pull(await this.deps.openConsumer(this.expected - 1));
  }

  private async pull(consumer: Consumer): Promise<void> {
    const messages = await consumer.consume({
      max_messages: this.deps.batchSize * 2,
      expires: PULL_EXPIRES_MS,
      // A consumer deleted under it (idle past its threshold while this process was cut
      // off) ends the subscription, which reopens it at the checkpoint; nats.js would
      // otherwise wait for the consumer to come back, and it never does.
      abort_on_missing_resource: true,
      callback: (m) => this.accept(m),
    });
    this.consumer = consumer;
    this.messages = messages;
    void messages.closed().then((err) => {
      if (this.stopping || this.messages !== messages) return;
      this.deps.logger.warn({ partition: this.deps.partition, ...(err && { err: err.message }) }, 'consumer closed; reopening at the checkpoint');
      void this.resubscribe();
    });
  }

  /**
   * Pulls again from the same consumer: its leader moved (its NATS node cut off or gone),
   * and the pull requests pending at the old leader went with it, without a word; nats.js
   * would notice only after two missed heartbeats (PULL_EXPIRES_MS). What is buffered stays.
   */
  async repull(why: string): Promise<void> {
    const consumer = this.consumer;
    if (this.stopping || this.reopening || !consumer || !this.messages) return;
    this.deps.logger.warn({ partition: this.deps.partition, expected: this.expected }, `${why}; pulling again`);
    await this.dropSubscription();
    await this.pull(consumer).catch(() => this.resubscribe());
  }

  /** Reopens the consumer at the checkpoint (an event stays missing). One reopen at a time. */
  private reopen(why: string): Promise<void> {
    this.reopening ??= (async () => {
      this.deps.logger.warn({ partition: this.deps.partition, expected: this.expected, waiting: this.buffer.size }, `${why}; reopening the consumer at the checkpoint`);
      await this.dropSubscription();
      await this.resubscribe();
    })().finally(() => (this.reopening = undefined));
    return this.reopening;
  }

  /** Closes the current subscription, cleared first: its end must not reopen the consumer by itself. */
  private async dropSubscription(): Promise<void> {
    const old = this.messages;
    this.messages = undefined;
    await old?.close().catch(() => undefined);
  }

  private async resubscribe(): Promise<void> {
    for (let attempt = 1; !this.stopping; attempt++) {
      try {
        this.buffer.clear();
        await this.subscribe();
        return;
      } catch (err) {
        this.deps.logger.error({ partition: this.deps.partition, err: (err as Error).message }, 'reopening consumer failed');
        await this.pause(Math.min(100 * 2 ** attempt, MAX_RETRY_MS));
      }
    }
  }

  private accept(m: JsMsg): void {
    if (m.seq < this.expected) {
      settle(m, { kind: 'ack' });
      return;
    }
    this.buffer.set(m.seq, m);
    this.wake?.();
  }

  /** The events from `from` on that are here, in sequence, up to a batch. */
  private takeBatch(from: number): JsMsg[] {
    const batch: JsMsg[] = [];
    for (let seq = from; batch.length < this.deps.batchSize; seq++) {
      const m = this.buffer.get(seq);
      if (!m) break;
      batch.push(m);
    }
    return batch;
  }

  /**
   * Up to PIPELINE_DEPTH batches are with the handler at once: while one commits, the
   * next is folded. They complete in order; the first to fail takes the ones after it
   * with it (they were folded on its result), and all of them are handed over again.
   */
  private async run(): Promise<void> {
    let failures = 0;
    const inFlight: Array<{ batch: JsMsg[]; done: Promise<void> }> = [];
    let next = this.expected;
    while (!this.stopping) {
      while (inFlight.length < PIPELINE_DEPTH) {
        // Behind a commit, a few events wait for it and go in one batch after it: folding
        // early pays only when there is much to fold, and small batches cost per batch.
        if (inFlight.length > 0 && !this.foldableEarly(next)) break;
        const batch = this.takeBatch(next);
        if (batch.length === 0) break;
        const done = this.deps.handle({ partition: this.deps.partition, fromSeq: next - 1, messages: batch });
        done.catch(() => undefined); // awaited below, in order
        inFlight.push({ batch, done });
        next = batch[batch.length - 1]!.seq + 1;
      }
      const head = inFlight[0];
      if (!head) {
        if (this.buffer.size > 0) await this.checkGap();
        const expected = this.expected;
        await this.sleepUntil(() => this.buffer.has(expected), true);
        this.wake = undefined;
        next = this.expected;
        continue;
      }
      this.gapSince = undefined;
      this.missingSince = undefined;
      if (inFlight.length < PIPELINE_DEPTH) {
        // Wake for the head's commit, or for enough events to fold meanwhile.
        const committed = await Promise.race([head.done.then(() => true, () => true), this.sleepUntil(() => this.foldableEarly(next), false).then(() => false)]);
        this.wake = undefined;
        if (!committed) continue;
      }
      try {
        await head.done;
      } catch (err) {
        await Promise.allSettled(inFlight.map((f) => f.done));
        inFlight.length = 0;
        next = this.expected;
        const checkpoint = await this.deps.resync(err).catch(() => undefined);
        if (checkpoint !== undefined && checkpoint + 1 > this.expected) {
          this.deps.logger.warn({ partition: this.deps.partition, from: this.expected - 1, to: checkpoint }, 'checkpoint moved ahead by another writer; continuing from it');
          this.skipTo(checkpoint + 1);
          next = this.expected;
          failures = 0;
          continue;
        }
        // Folded again at once: an earlier batch failed, or the batch holds copies of sends.
        if (this.deps.foldAgain?.(err)) continue;
        failures++;
        this.deps.logger.error(
          { partition: this.deps.partition, fromSeq: this.expected - 1, size: head.batch.length, attempt: failures, err: (err as Error).message },
          'batch failed; retrying',
        );
        // Keep the batch and try again; it stays in order because nothing after it moves.
        for (const m of this.buffer.values()) m.working();
        await this.pause(Math.min(100 * 2 ** failures, MAX_RETRY_MS));
        continue;
      }
      failures = 0;
      inFlight.shift();
      this.deps.afterCommit?.();
      for (const m of head.batch) this.buffer.delete(m.seq);
      this.expected = head.batch[head.batch.length - 1]!.seq + 1;
      // AckPolicy.All: acking the last acks the batch.
      settle(head.batch[head.batch.length - 1]!, { kind: 'ack' });
    }
    await Promise.allSettled(inFlight.map((f) => f.done));
  }

  /**
   * Whether a batch from `next` is worth folding while one commits: `next` is here and
   * enough after it. Not only the far end: with `next` missing (lost, or redelivered later)
   * and later events here, waking for them would fold nothing and wake again at once, a
   * loop that never yields to I/O and grows the head's reactions until the heap is gone
   * (seen: a projector out of memory after an asymmetric NATS partition).
   */
  private foldableEarly(next: number): boolean {
    return this.buffer.has(next) && this.buffer.has(next + this.earlyFold - 1);
  }

  /**
   * Resolves when `ready()` holds (or on stop), checked as events arrive. `checking`: also
   * after GAP_CHECK_MS while later events wait, so that a gap is looked into.
   */
  private sleepUntil(ready: () => boolean, checking: boolean): Promise<void> {
    return new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      // Also when the first later event arrives only while sleeping: the gap starts then.
      const armGapCheck = () => {
        if (checking && !timer && this.buffer.size > 0) timer = setTimeout(resolve, this.gapMs.check).unref();
      };
      this.wake = () => {
        if (this.stopping || ready()) resolve();
        else armGapCheck();
      };
      if (this.stopping || ready()) resolve();
      else armGapCheck();
    });
  }

  private skipTo(seq: number): void {
    for (const [s, m] of this.buffer) {
      if (s < seq) {
        settle(m, { kind: 'ack' });
        this.buffer.delete(s);
      }
    }
    this.expected = seq;
  }

  /**
   * Events after `expected` arrived but `expected` did not: usually a redelivery still on
   * its way. If the stream no longer holds `expected` (retention), skip to its first
   * sequence; nothing can bring those events back.
   */
  private async checkGap(): Promise<void> {
    const now = Date.now();
    this.gapSince ??= now;
    this.missingSince ??= now;
    if (now - this.gapSince < this.gapMs.check) return;
    this.gapSince = now;
    try {
      const first = await this.deps.firstSeq();
      if (first > this.expected) {
        this.deps.logger.error({ partition: this.deps.partition, expected: this.expected, first }, 'events before the stream start are gone; skipping to it');
        this.skipTo(first);
        return;
      }
    } catch (err) {
      this.deps.logger.warn({ partition: this.deps.partition, err: (err as Error).message }, 'gap check failed');
      return;
    }
    if (now - this.missingSince < this.gapMs.reopen) return;
    this.missingSince = undefined;
    // A hole inside the stream: no consumer brings that entry, ever. Seen when an R3
    // stream lost an acked entry through a partition (nats-server 2.9.10); the partition
    // must go on rather than wait forever.
    const present = await this.deps.hasEntry?.(this.expected).catch(() => undefined);
    const next = Math.min(...this.buffer.keys());
    if (present === false && next > this.expected) {
      this.deps.logger.error({ partition: this.deps.partition, missing: this.expected, next }, 'the stream holds no entry here (a hole); skipping to the next one');
      this.skipTo(next);
      return;
    }
    await this.reopen('an event is missing while later ones wait');
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms).unref());
  }
}
