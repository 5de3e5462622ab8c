import type { PushDecision, PushDevice, ReadMarker } from '@chat/storage';
import { shouldWake } from './wake.decider';

/** What the decisions need of one MessageSent event of the batch. */
export interface BatchMessage {
  seq: number;
  conversationId: string;
  senderId: string;
  /** Users the message mentions. */
  mentions?: readonly string[];
}

/** A conversation's current members: user -> the seq it joined at. */
export type MemberSeqs = ReadonlyMap<string, number>;

/** One message and the members it is for. */
export interface Delivery {
  message: BatchMessage;
  recipients: string[];
}

/** Everything the batch's decisions depend on, read once for the whole batch. */
export interface BatchFacts {
  /** Recipients that hold a live connection. */
  online: ReadonlySet<string>;
  /** conversation -> user -> marker, for the offline recipients. */
  markers: ReadonlyMap<string, ReadonlyMap<string, ReadMarker>>;
  devices: ReadonlyMap<string, readonly PushDevice[]>;
  lastActive: ReadonlyMap<string, Date>;
  now: Date;
  activeWithinMs: number;
}

/** A recipient found online for one message. */
export interface OnlineSeen {
  userId: string;
  conversationId: string;
  seq: number;
}

/** One wake-up to claim and send: a user is woken at most once per batch. */
export interface WakePlan {
  userId: string;
  devices: readonly PushDevice[];
  /** The messages it is for, in seq order; the first is the one the claim and `woken` name. */
  messages: Array<{ conversationId: string; seq: number }>;
  /** What the wake-up carries: each conversation once, with the user's unread count there. */
  conversations: Array<{ conversationId: string; count: number }>;
}

export interface BatchPlan {
  online: OnlineSeen[];
  /** Decided without sending: read, muted, not_mentioned, no_device, idle. */
  decided: PushDecision[];
  wakes: WakePlan[];
}

/** How a wake plan's claim and sends went. */
export type WakeOutcome =
  | { kind: 'coalesced' }
  | { kind: 'sent'; woken: string[]; problems: string[] };

/**
 * Who each message is for: the members of its conversation who joined before it, but not
 * its sender. A message whose conversation is unknown or whose sender is not a member was
 * refused by the projection: it is for nobody.
 */
export function recipientsOf(messages: readonly BatchMessage[], members: ReadonlyMap<string, MemberSeqs>): Delivery[] {
  const deliveries: Delivery[] = [];
  for (const message of messages) {
    const of = members.get(message.conversationId);
    if (!of?.has(message.senderId)) continue;
    const recipients: string[] = [];
    for (const [userId, joinedSeq] of of) if (userId !== message.senderId && joinedSeq < message.seq) recipients.push(userId);
    if (recipients.length) deliveries.push({ message, recipients });
  }
  return deliveries;
}

/** Every recipient of the batch, once. */
export function recipientsIn(deliveries: readonly Delivery[]): string[] {
  const users = new Set<string>();
  for (const d of deliveries) for (const u of d.recipients) users.add(u);
  return [...users];
}

/** The offline recipients, and the (conversation, user) pairs whose read markers the decisions need. */
export function offlineOf(deliveries: readonly Delivery[], online: ReadonlySet<string>): { users: string[]; pairs: Array<{ conversationId: string; userId: string }> } {
  const users = new Set<string>();
  const pairs = new Map<string, { conversationId: string; userId: string }>();
  for (const { message, recipients } of deliveries) {
    for (const userId of recipients) {
      if (online.has(userId)) continue;
      users.add(userId);
      pairs.set(`${message.conversationId}\n${userId}`, { conversationId: message.conversationId, userId });
    }
  }
  return { users: [...users], pairs: [...pairs.values()] };
}

/**
 * The batch's decisions for every recipient of every message, in seq order: online, read,
 * muted, not_mentioned, no_device and idle decided here; the rest gathered into one wake plan per user, whose
 * claim and sends come after (a user with news in three conversations gets one wake-up
 * naming the three).
 */
export function planBatch(deliveries: readonly Delivery[], facts: BatchFacts): BatchPlan {
  const plan: BatchPlan = { online: [], decided: [], wakes: [] };
  const wakes = new Map<string, WakePlan>();
  const ordered = [...deliveries].sort((a, b) => a.message.seq - b.message.seq);
  for (const { message, recipients } of ordered) {
    const { conversationId, seq } = message;
    for (const userId of recipients) {
      const online = facts.online.has(userId);
      const marker = facts.markers.get(conversationId)?.get(userId);
      const devices = facts.devices.get(userId) ?? [];
      const lastActiveAt = facts.lastActive.get(userId);
      const verdict = shouldWake(
        {
          userId, online, lastReadSeq: marker?.lastReadSeq ?? 0, devices, mentioned: message.mentions?.includes(userId) === true,
          ...(marker && { notify: marker.notify }), ...(marker?.muteUntil && { muteUntil: marker.muteUntil }), ...(lastActiveAt && { lastActiveAt }),
        },
        seq, facts.now, facts.activeWithinMs,
      );
      if (verdict === 'online') plan.online.push({ userId, conversationId, seq });
      else if (verdict !== 'wake') plan.decided.push({ userId, conversationId, seq, decision: verdict });
      else {
        let wake = wakes.get(userId);
        if (!wake) wakes.set(userId, (wake = { userId, devices, messages: [], conversations: [] }));
        wake.messages.push({ conversationId, seq });
        if (!wake.conversations.some((c) => c.conversationId === conversationId)) wake.conversations.push({ conversationId, count: marker?.unread ?? 1 });
      }
    }
  }
  plan.wakes = [...wakes.values()];
  return plan;
}

/**
 * The decisions of one wake plan: the first message is `woken` (some device took it) or
 * `failed` (none did), or `coalesced` when the window was already claimed; the plan's other
 * messages are `coalesced` into that one wake-up.
 */
export function wakeDecisions(plan: WakePlan, outcome: WakeOutcome): PushDecision[] {
  if (plan.messages.length === 0) return [];
  if (outcome.kind === 'coalesced') return plan.messages.map((m) => ({ userId: plan.userId, conversationId: m.conversationId, seq: m.seq, decision: 'coalesced' }));
  return [sentDecision(plan, outcome), ...followerDecisions(plan)];
}

/** The decision on a sent plan's first message: `woken` when some device took the wake-up, else `failed`. */
export function sentDecision(plan: WakePlan, outcome: Extract<WakeOutcome, { kind: 'sent' }>): PushDecision {
  const first = plan.messages[0]!;
  const of = { userId: plan.userId, conversationId: first.conversationId, seq: first.seq };
  return outcome.woken.length
    ? { ...of, decision: 'woken', detail: [...outcome.woken, ...outcome.problems].join('; ') }
    : { ...of, decision: 'failed', detail: outcome.problems.join('; ') };
}

/** The plan's other messages: `coalesced` into the wake-up of its first, whatever becomes of that one. */
export function followerDecisions(plan: WakePlan): PushDecision[] {
  const [first, ...rest] = plan.messages;
  return rest.map((m) => ({ userId: plan.userId, conversationId: m.conversationId, seq: m.seq, decision: 'coalesced', detail: `in the wake-up for seq ${first!.seq}` }));
}
