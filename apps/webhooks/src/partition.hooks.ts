import type { Consumer, ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import { PULL_EXPIRES_MS, readLoggedPayload, settle } from '@chat/messaging';
import type { HookedEvent } from '@chat/storage';
import { ConversationLanes } from './conversation.lanes';
import { hookOf, type Hook } from './hook';
import { retryDelayMs, type CallOutcome } from './webhook.client';

/** An entry of the log as the sender reads it from its consumer. */
export interface Entry {
  seq: number;
  conversationId: string;
  /** A send: looked for in the archived tiers when the hot timeline no longer has it. */
  message: boolean;
  /** An entry members never see (a report to the operators): no webhook, nothing to read. */
  hidden?: true;
}

export interface PartitionHooksDeps {
  partition: number;
  /**
   * Readies the consumer for an ordered start (webhook.consumers.ts, orderedStart); `first`
   * on the process's first start, when a missing consumer may be created.
   */
  prepare: (first: boolean) => Promise<void>;
  /** The partition's webhook consumer. */
  open: () => Promise<Consumer>;
  /** The conversation an entry's subject names. */
  conversationOf: (subject: string) => string;
  /** Resolves once the timeline projection has committed `seq` (false: not within `timeoutMs`). */
  projected: (partition: number, seq: number, timeoutMs: number) => Promise<boolean>;
  /** What members see of each entry (WebhookRepository). */
  resolve: (partition: number, entries: Entry[]) => Promise<Map<number, HookedEvent>>;
  /** One call to the receiver. */
  call: (hook: Hook) => Promise<CallOutcome>;
  status: {
    delivered(partition: number, seq: number): void;
    failed(partition: number, conversationId: string, seq: number, message: string, attempts: number): void;
    dropped(partition: number, seq: number): void;
  };
  /** Counts outcomes (metrics): `delivered`, `failed` (one failed call), `skipped` (nothing members see). */
  count: (result: 'delivered' | 'failed' | 'skipped') => void;
  /** Calls in flight at once; each conversation one at a time. */
  concurrency: number;
  batchSize: number;
  /** The consumer's ack wait: events held say they are still at work twice per wait. */
  ackWaitMs: number;
  /** The pause before try `attempt + 1` (default retryDelayMs). */
  retryDelay?: (attempt: number, retryAfterMs?: number) => number;
  log: Pick<Logger, 'info' | 'warn' | 'error'>;
}

interface Item {
  msg: JsMsg;
  hook: Hook;
}

/** How long one wait for the projection lasts before it is logged and waited for again. */
const PROJECTION_WAIT_MS = 10_000;
const MAX_RESTART_PAUSE_MS = 5_000;

/**
 * Sends one partition's events to the receiver: read from the partition's own durable
 * consumer, in batches; each batch waits for its projection (the event sent is the one
 * members see, and an event the rules refused is never sent), then its events queue in
 * their conversation's lane. A lane makes one call at a time, in seq order, and tries an
 * event again, with a growing pause, until the receiver answers 2xx; only then is the event
 * acked. So the consumer's position moves only past delivered events, a restart goes on
 * from there, and a failing receiver holds back nothing but these calls.
 *
 * When the consumer goes away under it (`webhooks:replay` recreates it elsewhere), the
 * lanes are dropped once their calls in flight have ended, and reading starts again from
 * the consumer's new position.
 */
export class PartitionHooks {
  /** Every event delivered and not settled yet, by seq: kept from redelivery by heartbeats. */
  private readonly held = new Map<number, JsMsg>();
  private intake: JsMsg[] = [];
  private lanes: ConversationLanes<Item>;
  /** Bumped when the consumer is replaced: work of an older generation settles nothing. */
  private generation = 0;
  private stopping = false;
  private heartbeat?: NodeJS.Timeout;
  private wake?: () => void;
  private loop?: Promise<void>;
  private messages?: ConsumerMessages;
  private restarting?: Promise<void>;
  /** Pauses between tries, cut short by stop and restart. */
  private readonly pauses = new Set<() => void>();

  constructor(private readonly deps: PartitionHooksDeps) {
    this.lanes = this.newLanes();
  }

  async start(): Promise<void> {
    await this.deps.prepare(true);
    await this.subscribe();
    this.heartbeat = setInterval(() => {
      for (const m of this.held.values()) m.working();
    }, this.deps.ackWaitMs / 2);
    this.heartbeat.unref();
    this.loop = this.run();
  }

  /**
   * Takes nothing more; the calls in flight end (within their timeout) and are acked if
   * delivered. Whatever else was delivered comes again at the next start, in order.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    this.cutPauses();
    const calls = this.lanes.stop();
    await this.loop;
    await this.restarting;
    await calls;
    clearInterval(this.heartbeat);
    await this.messages?.close();
  }

  private newLanes(): ConversationLanes<Item> {
    const generation = this.generation;
    return new ConversationLanes<Item>(this.deps.concurrency, (item) => item.hook.conversationId, (item) => this.deliver(item, generation));
  }

  private async subscribe(): Promise<void> {
    const generation = this.generation;
    const messages = await (await this.deps.open()).consume({
      max_messages: this.deps.batchSize,
      expires: PULL_EXPIRES_MS,
      // A deleted consumer ends this subscription (rather than one of the same name being
      // followed silently): the lanes of the old one must be dropped first.
      abort_on_missing_resource: true,
      callback: (m) => {
        if (generation !== this.generation || this.stopping) return;
        // A redelivery of an event still held: the one held is acked for both.
        if (this.held.has(m.seq)) return;
        this.held.set(m.seq, m);
        this.intake.push(m);
        this.wake?.();
      },
    });
    this.messages = messages;
    void messages.closed().then(() => {
      if (this.stopping || this.messages !== messages) return;
      this.deps.log.warn({ partition: this.deps.partition }, 'webhook consumer closed (moved by a replay?); starting again from its position');
      this.restarting ??= this.restart().finally(() => (this.restarting = undefined));
    });
  }

  /** Drops everything of the old consumer, then reads from the consumer as it is now. */
  private async restart(): Promise<void> {
    this.generation++;
    const old = this.lanes;
    this.lanes = this.newLanes();
    this.intake = [];
    this.cutPauses();
    await old.stop();
    for (const seq of this.held.keys()) this.deps.status.dropped(this.deps.partition, seq);
    this.held.clear();
    for (let attempt = 1; !this.stopping; attempt++) {
      try {
        await this.deps.prepare(false);
        await this.subscribe();
        return;
      } catch (err) {
        // A replay deletes the consumer and creates it again: a moment without one is expected.
        const level = attempt <= 5 ? 'info' : 'error';
        this.deps.log[level]({ partition: this.deps.partition, attempt, err: (err as Error).message }, 'reopening the webhook consumer failed; will retry');
        await this.pause(Math.min(100 * 2 ** attempt, MAX_RESTART_PAUSE_MS));
      }
    }
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      if (this.intake.length === 0) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          if (this.stopping || this.intake.length > 0) resolve();
        });
        this.wake = undefined;
        continue;
      }
      await this.queue(this.intake.splice(0, this.deps.batchSize), this.generation);
    }
  }

  /** Resolves a batch (after its projection) and queues its events in their lanes, in seq order. */
  private async queue(batch: JsMsg[], generation: number): Promise<void> {
    const current = () => generation === this.generation && !this.stopping;
    const p = this.deps.partition;
    const last = batch[batch.length - 1]!.seq;
    for (let attempt = 1; !(await this.deps.projected(p, last, PROJECTION_WAIT_MS)); attempt++) {
      if (!current()) return;
      this.deps.log.warn({ partition: p, seq: last }, 'webhooks wait for the projection to reach their events');
      // A wait that ends at once (no projection to watch) must not spin.
      await this.pause((this.deps.retryDelay ?? retryDelayMs)(attempt));
    }
    const entries = batch.map((m) => this.entryOf(m));
    let resolved: Map<number, HookedEvent> | undefined;
    for (let attempt = 1; !resolved; attempt++) {
      if (!current()) return;
      try {
        resolved = await this.deps.resolve(p, entries.filter((e) => !e.hidden));
      } catch (err) {
        this.deps.log.error({ partition: p, err: (err as Error).message }, 'reading the events of webhooks failed; will retry');
        await this.pause((this.deps.retryDelay ?? retryDelayMs)(attempt));
      }
    }
    if (!current()) return;
    let gone = 0;
    for (const [i, m] of batch.entries()) {
      const found = resolved.get(m.seq);
      if (found?.kind === 'event') {
        this.lanes.push({ msg: m, hook: hookOf(entries[i]!.conversationId, m.seq, found.event) });
        continue;
      }
      if (found?.kind === 'gone') gone++;
      this.deps.count('skipped');
      this.settle(m);
    }
    if (gone > 0) this.deps.log.warn({ partition: p, events: gone }, 'events older than the read model keeps were not sent (replay beyond CHAT_SYNC_RETENTION)');
  }

  private entryOf(m: JsMsg): Entry {
    const { raw } = readLoggedPayload(m);
    const type = typeof raw === 'object' && raw !== null ? (raw as { type?: unknown }).type : undefined;
    return { seq: m.seq, conversationId: this.deps.conversationOf(m.subject), message: type === 'MessageSent', ...(type === 'MessageReported' && { hidden: true as const }) };
  }

  /** Calls the receiver until it answers 2xx (true) or this generation ends (false). */
  private async deliver(item: Item, generation: number): Promise<boolean> {
    const p = this.deps.partition;
    for (let attempt = 1; ; attempt++) {
      if (generation !== this.generation || this.stopping) return false;
      let outcome: CallOutcome;
      try {
        outcome = await this.deps.call(item.hook);
      } catch (err) {
        outcome = { ok: false, error: (err as Error).message };
      }
      if (outcome.ok) {
        this.deps.count('delivered');
        this.deps.status.delivered(p, item.hook.seq);
        if (generation === this.generation) this.settle(item.msg);
        return true;
      }
      this.deps.count('failed');
      this.deps.status.failed(p, item.hook.conversationId, item.hook.seq, outcome.error, attempt);
      if (attempt === 1 || attempt % 10 === 0) {
        this.deps.log.warn({ partition: p, id: item.hook.id, attempt, err: outcome.error }, 'webhook call failed; will retry');
      }
      await this.pause((this.deps.retryDelay ?? retryDelayMs)(attempt, outcome.retryAfterMs));
    }
  }

  private settle(m: JsMsg): void {
    if (this.held.get(m.seq) === m) this.held.delete(m.seq);
    try {
      settle(m, { kind: 'ack' });
    } catch (err) {
      // The connection is closing: the event comes again at the next start.
      this.deps.log.warn({ partition: this.deps.partition, seq: m.seq, err: (err as Error).message }, 'acking a webhook event failed');
    }
  }

  private pause(ms: number): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.pauses.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.pauses.add(done);
    });
  }

  private cutPauses(): void {
    for (const done of [...this.pauses]) done();
  }
}
