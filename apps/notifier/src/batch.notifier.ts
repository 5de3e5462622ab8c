import type { Logger } from 'pino';
import type { RouteTable } from '@chat/connections';
import type { ConversationEvent } from '@chat/domain';
import type { ProjectionWatch } from '@chat/messaging';
import { sendWithRetry, type Platform, type PushProvider } from '@chat/push';
import type { PushDecision, PushRepository } from '@chat/storage';
import { offlineOf, planBatch, recipientsIn, recipientsOf, wakeDecisions, type BatchMessage, type WakeOutcome, type WakePlan } from './batch.decider';
import type { MemberCache } from './member.cache';
import type { OnlineRecorder } from './online.recorder';
import type { WakeClaims } from './wake.claims';

/** One event of the partition as the notifier reads it; `event` is undefined when it cannot be read. */
export interface LoggedEvent {
  seq: number;
  event?: ConversationEvent;
}

export interface BatchResult {
  /** Messages not projected in time: hand them back for later. */
  later: number[];
}

export interface NotifierSettings {
  activeWithinMs: number;
  /** How long a batch waits for its projection (members, read markers) before its rest is retried later. */
  projectionWaitMs: number;
  /** Wake-ups in flight at once. */
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
  providers: ReadonlyMap<Platform, PushProvider>;
  /** Runs after each wake-up a provider took (the crash test hook). */
  afterSend: () => void;
  now: () => Date;
  settings: NotifierSettings;
  log: Pick<Logger, 'warn'>;
}

/**
 * One batch of a partition's events, handled together: membership events drop cached
 * members; the messages wait for their projection (progress notices, no polling), then
 * members, presence, read markers, devices and activity are read once for the whole batch,
 * every recipient of every message gets its decision, wake-ups of different users go out
 * concurrently, and the decisions are written in one statement (`online` ones as ranges,
 * by the OnlineRecorder).
 */
export class BatchNotifier {
  constructor(private readonly deps: NotifierDeps) {}

  async handle(partition: number, events: readonly LoggedEvent[]): Promise<BatchResult> {
    const messages: BatchMessage[] = [];
    for (const { seq, event } of events) {
      if (!event) continue;
      if (event.type === 'ConversationCreated' || event.type === 'MembersAdded' || event.type === 'MembersRemoved') this.deps.members.drop(event.conversationId);
      else if (event.type === 'MessageSent') messages.push({ seq, conversationId: event.conversationId, senderId: event.senderId });
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

    const woken = await mapConcurrently(plan.wakes, this.deps.settings.sendConcurrency, (w) => this.wake(w, now));
    const decisions: PushDecision[] = [...plan.decided, ...woken.flat()];
    await this.deps.store.record(decisions);
    this.deps.online.note(plan.online, decisions);
    return { later };
  }

  private async wake(plan: WakePlan, now: Date): Promise<PushDecision[]> {
    if (!(await this.deps.claims.claim(plan.userId, plan.messages[0]!.seq))) return wakeDecisions(plan, { kind: 'coalesced' });
    const results = await Promise.all(plan.devices.map(async (device): Promise<{ woken?: string; problem?: string }> => {
      const provider = this.deps.providers.get(device.platform);
      if (!provider) return { problem: `${device.platform}: not configured` };
      const result = await sendWithRetry(provider, {
        userId: plan.userId, deviceId: device.deviceId, platform: device.platform, token: device.token, at: now.toISOString(), conversations: plan.conversations,
      });
      if (result.kind === 'sent') {
        this.deps.afterSend();
        return { woken: `${device.platform}:${device.deviceId}` };
      }
      if (result.kind === 'gone') {
        await this.deps.store.forget(device).catch((err: Error) => this.deps.log.warn({ userId: plan.userId, deviceId: device.deviceId, err: err.message }, 'removing a gone token failed'));
      }
      return { problem: `${device.platform}:${device.deviceId} ${result.kind}: ${result.reason}` };
    }));
    const outcome: WakeOutcome = {
      kind: 'sent',
      woken: results.flatMap((r) => (r.woken ? [r.woken] : [])),
      problems: results.flatMap((r) => (r.problem ? [r.problem] : [])),
    };
    return wakeDecisions(plan, outcome);
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
