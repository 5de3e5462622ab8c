import type { ChatEvent, ConversationChanged, Message } from '@chat/contracts';
import { admit, evolve, type Conversation, type ConversationEvent, type ConversationState } from '@chat/domain';
import { clientMsgKey, directKey, emptyWrites, toConversationInfo, type ConversationRow, type ProjectionWrites } from '@chat/storage';

/** One entry of the log as the projector reads it. */
export interface LoggedEvent {
  seq: number;
  /** From the subject: the only conversation this entry may change. */
  conversationId: string;
  /** `undefined` when the payload was not a readable event. */
  event: ConversationEvent | undefined;
  origin?: string;
}

/** A committed event and who should see it live. */
export interface Delivery {
  event: ChatEvent;
  recipients: string[];
  origin?: string;
}

export interface ProjectedBatch {
  writes: ProjectionWrites;
  deliveries: Delivery[];
  /** The state of every conversation the batch touched, after it. */
  states: Map<string, Conversation>;
}

/**
 * Folds one batch of a partition, in log order, into the rows to write and the events to
 * deliver. Pure: the caller loads `states` and `knownSends` first and commits the result.
 * The rules run again here (`admit`), so an event the gateway accepted on stale state is
 * refused at its real position in the log, identically on every replay.
 */
export function projectBatch(input: {
  partition: number;
  fromSeq: number;
  events: LoggedEvent[];
  states: ReadonlyMap<string, ConversationState>;
  knownSends: ReadonlySet<string>;
}): ProjectedBatch {
  const writes = emptyWrites(input.partition, input.fromSeq);
  const deliveries: Delivery[] = [];
  const states = new Map<string, ConversationState>(input.states);
  const initial = new Map<string, ConversationState>(input.states);
  const sends = new Set(input.knownSends);
  const touched = new Map<string, { activityAt?: string; lastMessage?: Message; lastAt: string }>();
  /** conversation -> user -> seq of the event that (last) added the user. */
  const joinedAt = new Map<string, Map<string, number>>();

  for (const { seq, conversationId, event, origin } of input.events) {
    writes.toSeq = seq;
    if (!event || event.conversationId !== conversationId) {
      writes.rejected.push({ seq, conversationId, code: 'MALFORMED', reason: 'not a readable event for this subject' });
      continue;
    }
    const before = states.get(conversationId);
    const rejection = admit(before, event);
    if (rejection) {
      writes.rejected.push({ seq, conversationId, code: rejection.code, reason: rejection.reason });
      continue;
    }
    if (event.type === 'MessageSent') {
      const key = clientMsgKey(event.senderId, event.clientMsgId);
      if (sends.has(key)) {
        writes.rejected.push({ seq, conversationId, code: 'DUPLICATE', reason: 'clientMsgId already sent' });
        continue;
      }
      sends.add(key);
    }
    const after = evolve(before, event, seq);
    states.set(conversationId, after);
    const touch = touched.get(conversationId) ?? { lastAt: event.at };
    touched.set(conversationId, touch);

    if (event.type === 'ConversationCreated' || event.type === 'MembersAdded') {
      const joined = joinedAt.get(conversationId) ?? new Map<string, number>();
      joinedAt.set(conversationId, joined);
      for (const userId of event.type === 'ConversationCreated' ? event.members : event.userIds) joined.set(userId, seq);
    }
    const visible = toVisible(event, seq, after);
    writes.timeline.push({
      conversationId, seq, kind: visible.type, payload: visible, at: event.at,
      messageNo: event.type === 'MessageSent' ? after.messageCount : null,
    });
    let inboxOf: Iterable<string>;
    let deliverTo: Iterable<string>;
    switch (event.type) {
      case 'ConversationCreated':
      case 'MembersAdded':
      case 'MessageSent':
        inboxOf = deliverTo = after.members;
        touch.activityAt = event.at;
        break;
      case 'MembersRemoved':
        // The removed see their own removal, then nothing more.
        inboxOf = deliverTo = before!.members;
        touch.activityAt = event.at;
        break;
      case 'ReadMarked':
        // Other members learn of markers live and from conversation:list; only the
        // reader's other devices need the event in their sync.
        inboxOf = [event.userId];
        deliverTo = after.members;
        writes.readMarkers.push({ conversationId, userId: event.userId, seq: event.seq });
        break;
      default: {
        const unhandled: never = event;
        return unhandled;
      }
    }
    if (event.type === 'MessageSent') {
      writes.clientMsgIds.push({ senderId: event.senderId, clientMsgId: event.clientMsgId, conversationId, seq, sentAt: event.at });
      touch.lastMessage = visible as Message;
    }
    for (const userId of inboxOf) writes.inbox.push({ userId, seq, conversationId });
    deliveries.push({ event: visible, recipients: [...deliverTo], ...(origin !== undefined && { origin }) });
  }

  const finals = new Map<string, Conversation>();
  for (const [id, touch] of touched) {
    const state = states.get(id)!;
    finals.set(id, state);
    writes.conversations.push(conversationRow(state, touch));
    const was = initial.get(id)?.members ?? new Set<string>();
    for (const userId of state.members) {
      if (!was.has(userId)) writes.memberInserts.push({ conversationId: id, userId, joinedSeq: joinedAt.get(id)!.get(userId)! });
    }
    for (const userId of was) if (!state.members.has(userId)) writes.memberDeletes.push({ conversationId: id, userId });
  }
  return { writes, deliveries, states: finals };
}

function conversationRow(c: Conversation, touch: { activityAt?: string; lastMessage?: Message; lastAt: string }): ConversationRow {
  return {
    id: c.id, kind: c.kind, title: c.title ?? null, createdBy: c.createdBy, createdAt: c.createdAt,
    directKey: c.kind === 'direct' ? directKey([...c.members]) : null,
    lastSeq: c.lastSeq, messageCount: c.messageCount, memberCount: c.members.size,
    // Reads do not reorder a user's conversation list; everything else does.
    ...(touch.activityAt !== undefined && { lastActivityAt: touch.activityAt }),
    ...(touch.lastMessage !== undefined && { lastMessage: touch.lastMessage }),
  };
}

/** The event as clients see it (PROTOCOL.md shapes). */
export function toVisible(event: ConversationEvent, seq: number, after: Conversation): ChatEvent {
  const changed = (change: ConversationChanged['change'], userIds: string[], withInfo: boolean): ConversationChanged => ({
    type: 'conversation', conversationId: event.conversationId, seq, change, userIds,
    ...(withInfo && { conversation: toConversationInfo(after) }),
  });
  switch (event.type) {
    case 'ConversationCreated':
      return changed('created', event.members, true);
    case 'MembersAdded':
      return changed('members_added', event.userIds, true);
    case 'MembersRemoved':
      return changed('members_removed', event.userIds, false);
    case 'MessageSent':
      return {
        type: 'message', conversationId: event.conversationId, seq, senderId: event.senderId,
        clientMsgId: event.clientMsgId, body: event.body, sentAt: event.at,
        ...(event.replyToSeq !== undefined && { replyToSeq: event.replyToSeq }),
      };
    case 'ReadMarked':
      return { type: 'read', conversationId: event.conversationId, userId: event.userId, seq: event.seq };
    default: {
      const unhandled: never = event;
      return unhandled;
    }
  }
}
