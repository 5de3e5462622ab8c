import type { Logger } from 'pino';
import type { RouteTable } from '@chat/connections';
import type { ConversationEvent } from '@chat/domain';
import type { ProjectionWatch } from '@chat/messaging';
import type { PushDecision, PushRepository } from '@chat/storage';
import { followerDecisions, offlineOf, planBatch, recipientsIn, recipientsOf, wakeDecisions, type BatchMessage, type WakePlan } from './batch.decider';
import type { MemberCache } from './member.cache';
import type { OnlineRecorder } from './online.recorder';
import type { WakeClaims } from './wake.claims';
import type { WakeSender } from './wake.sender';

/** One event of the partition as the notifier reads it; `event` is undefined when it cannot be read. */
export interface LoggedEvent {
  seq: number;
  event?: ConversationEvent;
}

export interface BatchResult {
  /** Messages not projected in time: hand them back for later. */
  later: number[];
  /**
   * Messages whose decision waits for a wake-up still being sent (off the batch: the feed
   * goes on with the next one). Settle each when its promise does: ack when it resolves
   * (the decision is recorded), hand it back when it rejects.
   */
  held?: ReadonlyMap<number, Promise<void>>;
}

export interface NotifierSettings {
  activeWithinMs: number;
  /** How long a batch waits for its projection (members, read markers) before its rest is retried later. */
  projectionWaitMs: number;
  /** Wake windows claimed at once (Redis round trips). */
  sendConcurrency: number;
}

/** What the notifier uses, each as narrow as it is used, so that tests can give fakes. */
export interface NotifierDeps {
  projection: Pick<ProjectionWatch, 'waitFor' | 'reached'>;
  members: Pick<MemberCache, 'membersOf' | 'drop'>;
  presence: Pick<RouteTable, 'refresh' | 'online'>;
  store: Pick<PushRepository, 'readMarkers' | 'devicesOf' | 'lastActive' | 'record' | 'forget'>;
  online: Pick<OnlineRecorder, 'note'>;
  claims: WakeClaims;
  wakes: Pick<WakeSender, 'wake'>;
  now: () => Date;
  settings: NotifierSettings;
  log: Pick<Logger, 'warn'>;
}

/**
 * One batch of a partition's events, handled together: membership events drop cached
 * members; the messages wait for their projection (progress notices, no polling), then
 * members, presence, read markers, devices and activity are read once for the whole batch,
 * every recipient of every message gets its decision, and the decisions are written in one
 * statement (`online` ones as ranges, by the OnlineRecorder). Wake-ups are claimed here and
 * handed to the WakeSender: the batch does not wait for providers, so a slow or dead
 * endpoint holds back only the messages of its own wake-ups (`held`), never the partition.
 */
export class BatchNotifier {
  constructor(private readonly deps: NotifierDeps) {}

  async handle(partition: number, events: readonly LoggedEvent[]): Promise<BatchResult> {
    const messages: BatchMessage[] = [];
    for (const { seq, event } of events) {
      if (!event) continue;
      if (event.type === 'ConversationCreated' || event.type === 'MembersAdded' || event.type === 'MembersRemoved') this.deps.members.drop(event.conversationId);
      else if (event.type === 'MessageSent') {
        messages.push({ seq, conversationId: event.conversationId, senderId: event.senderId, ...(event.mentions && { mentions: event.mentions }) });
      }
    }
    const nothing = { later: [] };
    if (messages.length === 0) return nothing;

    const last = Math.max(...messages.map((m) => m.seq));
    await this.deps.projection.waitFor(partition, last, this.deps.settings.projectionWaitMs);
    const reached = this.deps.projection.reached(partition);
    const ready = messages.filter((m) => m.seq <= reached);
    const later = messages.filter((m) => m.seq > reached).map((m) => m.seq);
    if (ready.length === 0) return { later };

    const deliveries = recipientsOf(ready, await this.deps.members.membersOf(ready.map((m) => m.conversationId)));
    if (deliveries.length === 0) return { later };
    await this.deps.presence.refresh();
    const online = await this.deps.presence.online(recipientsIn(deliveries));
    const offline = offlineOf(deliveries, online);
    const [markers, devices, lastActive] = offline.users.length
      ? await Promise.all([this.deps.store.readMarkers(offline.pairs), this.deps.store.devicesOf(offline.users), this.deps.store.lastActive(offline.users)])
      : [new Map(), new Map(), new Map()];
    const now = this.deps.now();
    const plan = planBatch(deliveries, { online, markers, devices, lastActive, now, activeWithinMs: this.deps.settings.activeWithinMs });

    const claims = await mapConcurrently(plan.wakes, this.deps.settings.sendConcurrency, async (wake) => ({ wake, claimed: await this.claim(wake) }));
    const decisions: PushDecision[] = [...plan.decided];
    const sending: WakePlan[] = [];
    for (const { wake, claimed } of claims) {
      if (claimed) {
        sending.push(wake);
        decisions.push(...followerDecisions(wake));
      } else decisions.push(...wakeDecisions(wake, { kind: 'coalesced' }));
    }
    await this.deps.store.record(decisions);
    const firsts = sending.map((w) => ({ userId: w.userId, conversationId: w.messages[0]!.conversationId }));
    this.deps.online.note(plan.online, [...decisions, ...firsts]);

    // Sent only once the rest is recorded: a batch that fails is redelivered, finds the windows claimed and sends nothing.
    const at = now.toISOString();
    const bySeq = new Map<number, Promise<void>[]>();
    for (const wake of sending) {
      const seq = wake.messages[0]!.seq;
      bySeq.set(seq, [...(bySeq.get(seq) ?? []), this.deps.wakes.wake(wake, at)]);
    }
    const held = new Map<number, Promise<void>>();
    for (const [seq, sends] of bySeq) {
      const all = Promise.all(sends).then(() => undefined);
      all.catch(() => undefined); // the feed takes the failure; this only keeps it from being reported unhandled meanwhile
      held.set(seq, all);
    }
    return { later, held };
  }

  private async claim(plan: WakePlan): Promise<boolean> {
    return this.deps.claims.claim(plan.userId, plan.messages[0]!.seq);
  }
}

/** `fn` over every item, at most `limit` at a time; results in the items' order. */
async function mapConcurrently<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
