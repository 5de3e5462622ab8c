import type { ChatEvent, ConversationChanged, Message } from '@chat/contracts';
import {
  addReply,
  admit,
  evolve,
  evolveMessage,
  membershipEffect,
  messageRef,
  readMarkerAt,
  roleOf,
  type Conversation,
  type ConversationEvent,
  type ConversationState,
  type MessageChange,
} from '@chat/domain';
import {
  clientMsgKey,
  directKey,
  emptyWrites,
  messageKey,
  readerKey,
  toConversationInfo,
  type ConversationRow,
  type ProjectionWrites,
} from '@chat/storage';

/** One entry of the log as the projector reads it. */
export interface LoggedEvent {
  seq: number;
  /** From the subject: the only conversation this entry may change. */
  conversationId: string;
  /** `undefined` when the payload was not a readable event. */
  event: ConversationEvent | undefined;
  origin?: string;
  /** Its W3C traceparent, when tracing. */
  trace?: string;
}

/** A committed event and who should see it live. */
export interface Delivery {
  event: ChatEvent;
  recipients: string[];
  origin?: string;
  trace?: string;
  /** A large conversation's event: it goes to the conversation's room, not to each recipient. */
  room: boolean;
  /** Users whose sockets must be in the room before this event is published there. */
  joiners?: string[];
}

export interface ProjectedBatch {
  writes: ProjectionWrites;
  deliveries: Delivery[];
  /** The state of every conversation the batch touched, after it. */
  states: Map<string, Conversation>;
}

export interface BatchInput {
  partition: number;
  fromSeq: number;
  events: LoggedEvent[];
  /** The state of every conversation in the batch before it (undefined: not created). */
  states: ReadonlyMap<string, ConversationState>;
  /** (sender, clientMsgId) pairs known to be projected before (`clientMsgKey`): copies in the log. */
  knownSends: { has(key: string): boolean };
  /** The stored messages that edits, deletes and reactions of the batch target (`messageKey`). */
  targets: ReadonlyMap<string, Message>;
  /** Stored read markers of the readers in the batch (`readerKey`). */
  readMarkers: ReadonlyMap<string, number>;
  /** Conversations with this many members or more are left to the timeline (pull). */
  fanoutMax: number;
}

interface Touch {
  activityAt?: string;
  lastMessage?: Message;
  pulled: boolean;
  /** The batch holds the conversation's creation. */
  created?: boolean;
}

/**
 * Folds one batch of a partition, in log order, into the rows to write and the events to
 * deliver. Pure: the caller loads what the input names and commits the result. The rules
 * run again here (`admit`), so an event the gateway accepted on stale state is refused at
 * its real position in the log, identically on every replay and whatever the batch
 * boundaries are.
 */
export function projectBatch(input: BatchInput): ProjectedBatch {
  const writes = emptyWrites(input.partition, input.fromSeq);
  const deliveries: Delivery[] = [];
  const states = new Map<string, ConversationState>(input.states);
  const sends = new Set<string>();
  const markers = new Map(input.readMarkers);
  const touched = new Map<string, Touch>();
  /** Working copies of the messages the batch creates or changes, by `messageKey`. */
  const messages = new Map<string, Message>();
  /** `messageKey` -> seq of the batch's last change to that message. */
  const changed = new Map<string, number>();
  const periods = new PeriodTracker(writes);
  /** conversation\nuser of everyone the batch removed: their member rows are deleted, whatever follows. */
  const removedInBatch = new Set<string>();
  /** conversation -> members whose role or mute the batch changed: written as the batch leaves them. */
  const moderated = new Map<string, Set<string>>();
  const moderate = (conversationId: string, userId: string) => {
    let users = moderated.get(conversationId);
    if (!users) moderated.set(conversationId, (users = new Set()));
    users.add(userId);
  };

  const messageOf = (conversationId: string, seq: number): Message | undefined => {
    const key = messageKey(conversationId, seq);
    let m = messages.get(key);
    if (!m) {
      const stored = input.targets.get(key);
      if (stored) messages.set(key, (m = structuredClone(stored)));
    }
    return m;
  };

  for (const { seq, conversationId, event, origin, trace } of input.events) {
    writes.toSeq = seq;
    const refuse = (code: string, reason: string) => writes.rejected.push({ seq, conversationId, code, reason });
    if (!event || event.conversationId !== conversationId) {
      refuse('MALFORMED', 'not a readable event for this subject');
      continue;
    }
    const before = states.get(conversationId);
    const targetSeq = targetOf(event);
    const target = targetSeq !== undefined ? messageRef(messageOf(conversationId, targetSeq)) : undefined;
    const rejection = admit(before, event, target);
    if (rejection) {
      refuse(rejection.code, rejection.reason);
      continue;
    }
    if (event.type === 'MessageReported') {
      // For the operators only: no timeline row, no inbox, no live event; nothing members see changes.
      writes.reports.push({ conversationId, seq, targetSeq: event.targetSeq, reportedBy: event.by, reason: event.reason, reportedAt: event.at });
      continue;
    }
    if (event.type === 'MessageSent') {
      const key = clientMsgKey(event.senderId, event.clientMsgId);
      if (sends.has(key) || input.knownSends.has(key)) {
        refuse('DUPLICATE', 'clientMsgId already sent');
        continue;
      }
      sends.add(key);
    }
    const marker = event.type === 'ReadMarked' ? readMarkerAt(before!, event) : 0;
    if (event.type === 'ReadMarked') {
      const key = readerKey(conversationId, event.userId);
      if (marker <= (markers.get(key) ?? 0)) {
        refuse('NO_CHANGE', 'read marker does not move forward');
        continue;
      }
      markers.set(key, marker);
    }

    const after = evolve(before, event, seq);
    states.set(conversationId, after);
    const touch = touched.get(conversationId) ?? { pulled: false };
    touched.set(conversationId, touch);
    // Small conversations get a row per member (push); large ones are read from the timeline (pull).
    const pull = after.members.size >= input.fanoutMax;

    let visible: ChatEvent;
    let messageNo: number | null = null;
    let inboxOf: Iterable<string> = pull ? [] : after.members;
    let deliverTo: Iterable<string> = after.members;
    let pulled = pull;
    let toRoom = pull;
    switch (event.type) {
      case 'ConversationCreated':
      case 'MembersAdded': {
        const joined = event.type === 'ConversationCreated' ? after.members : membershipEffect(before!, event);
        visible = changed_(event.type === 'ConversationCreated' ? 'created' : 'members_added', [...joined]);
        for (const userId of joined) periods.opened(conversationId, userId, seq);
        touch.activityAt = event.at;
        if (event.type === 'ConversationCreated') touch.created = true;
        break;
      }
      case 'MembersRemoved': {
        const left = membershipEffect(before!, event);
        visible = changed_('members_removed', left);
        for (const userId of left) {
          periods.close(conversationId, userId, seq);
          // A member row starts afresh (marker 0) when the user comes back, batch or no batch.
          markers.delete(readerKey(conversationId, userId));
          removedInBatch.add(readerKey(conversationId, userId));
        }
        writes.readMarkers = writes.readMarkers.filter((r) => r.conversationId !== conversationId || !left.includes(r.userId));
        writes.notifySettings = writes.notifySettings.filter((r) => r.conversationId !== conversationId || !left.includes(r.userId));
        // The removed see their own removal, then nothing more; their periods end before it.
        inboxOf = pull ? left : before!.members;
        deliverTo = before!.members;
        touch.activityAt = event.at;
        break;
      }
      case 'MessageSent': {
        messageNo = after.messageCount;
        // Mentions count for those who are members here in the log (one removed since the
        // gateway checked is dropped; the message stands).
        const mentions = event.mentions?.filter((u) => after.members.has(u));
        const message: Message = {
          type: 'message', conversationId, seq, senderId: event.senderId, clientMsgId: event.clientMsgId, body: event.body, sentAt: event.at,
          ...(event.replyToSeq !== undefined && { replyToSeq: event.replyToSeq }),
          ...(event.threadRootSeq !== undefined && { threadRootSeq: event.threadRootSeq }),
          ...(mentions && mentions.length > 0 && { mentions }),
          ...(event.attachments && event.attachments.length > 0 && { attachments: event.attachments.map(({ id, name, contentType, size }) => ({ id, name, contentType, size })) }),
        };
        messages.set(messageKey(conversationId, seq), message);
        for (const userId of mentions ?? []) if (userId !== event.senderId) writes.mentions.push({ conversationId, userId, seq });
        if (event.threadRootSeq !== undefined) {
          // The root's summary changes with it; that change is not an event of its own.
          addReply(messageOf(conversationId, event.threadRootSeq)!, { seq, senderId: event.senderId, at: event.at });
          changed.set(messageKey(conversationId, event.threadRootSeq), seq);
        }
        // Live copy frozen as sent; the stored one may still be folded by later events.
        visible = structuredClone(message);
        writes.clientMsgIds.push({ senderId: event.senderId, clientMsgId: event.clientMsgId, conversationId, seq, sentAt: event.at });
        touch.activityAt = event.at;
        touch.lastMessage = message;
        break;
      }
      case 'MessageEdited':
      case 'MessageDeleted':
      case 'ReactionAdded':
      case 'ReactionRemoved': {
        const message = messageOf(conversationId, event.targetSeq)!;
        // Read before the fold takes them: a deleted message's objects are deleted (by the archiver).
        const attachments = event.type === 'MessageDeleted' ? message.attachments : undefined;
        visible = fold(message, event, seq);
        changed.set(messageKey(conversationId, event.targetSeq), seq);
        if (event.type === 'MessageDeleted') {
          // The body is gone from every read model: earlier edits carried it too. Nobody
          // is mentioned by a deleted message any more.
          writes.scrubEdits.push({ conversationId, targetSeq: event.targetSeq, seq });
          writes.mentionDeletes.push({ conversationId, seq: event.targetSeq });
          for (const a of attachments ?? []) writes.attachmentDeletions.push({ conversationId, attachmentId: a.id, seq });
          for (const row of writes.timeline) {
            if (row.conversationId === conversationId && row.targetSeq === event.targetSeq && row.payload.type === 'message:edited') {
              row.payload = { ...row.payload, body: '' };
              row.changedSeq = seq;
            }
          }
        }
        break;
      }
      case 'ReadMarked':
        // Other members learn of markers live and from conversation:list; only the
        // reader's other devices need the event in their sync.
        visible = { type: 'read', conversationId, userId: event.userId, seq: marker };
        inboxOf = [event.userId];
        pulled = false;
        writes.readMarkers.push({ conversationId, userId: event.userId, seq: marker });
        break;
      case 'NotifySet':
        // A member's own setting: its devices alone see it, never the conversation's room.
        visible = { type: 'notify', conversationId, seq, level: event.level, ...(event.muteUntil !== undefined && { muteUntil: event.muteUntil }) };
        inboxOf = [event.userId];
        deliverTo = [event.userId];
        pulled = false;
        toRoom = false;
        writes.notifySettings.push({ conversationId, userId: event.userId, level: event.level, muteUntil: event.muteUntil ?? null });
        break;
      case 'RoleSet':
        visible = { ...changed_('role_changed', [event.userId]), by: event.by, role: event.role };
        moderate(conversationId, event.userId);
        break;
      case 'MemberMuted':
        visible = { ...changed_('member_muted', [event.userId]), by: event.by, ...(after.muted?.get(event.userId)?.until !== undefined && { until: after.muted.get(event.userId)!.until! }) };
        moderate(conversationId, event.userId);
        break;
      case 'MemberUnmuted':
        visible = { ...changed_('member_unmuted', [event.userId]), by: event.by };
        moderate(conversationId, event.userId);
        break;
      case 'SlowModeSet':
        visible = { ...changed_('slow_mode', []), by: event.by, seconds: event.seconds };
        break;
      default: {
        const unhandled: never = event;
        return unhandled;
      }
    }
    touch.pulled ||= pulled;
    writes.timeline.push({
      conversationId, seq, kind: visible.type, payload: event.type === 'MessageSent' ? messages.get(messageKey(conversationId, seq))! : visible, at: event.at,
      messageNo, targetSeq: isMessageChange(event) ? event.targetSeq : null, pulled, changedSeq: null,
    });
    for (const userId of inboxOf) writes.inbox.push({ userId, seq, conversationId });
    // The room takes over when the conversation becomes large; new members join it first.
    const wasLarge = before !== undefined && before.members.size >= input.fanoutMax;
    const joiners = !pull ? [] : !wasLarge ? [...after.members] : event.type === 'MembersAdded' ? membershipEffect(before!, event) : [];
    deliveries.push({
      event: visible, recipients: [...deliverTo], room: toRoom,
      ...(origin !== undefined && { origin }), ...(trace !== undefined && { trace }), ...(joiners.length > 0 && { joiners }),
    });

    function changed_(change: ConversationChanged['change'], userIds: string[]): ConversationChanged {
      // A moderation change names what changed; the whole conversation comes with creations and additions.
      return {
        type: 'conversation', conversationId, seq, change, userIds,
        ...((change === 'created' || change === 'members_added') && { conversation: toConversationInfo(after) }),
      };
    }
  }

  // Messages the batch changed: those it created are written folded, with the seq of their
  // last change; the folded form of those stored before replaces the stored one.
  const created = new Set<string>();
  for (const row of writes.timeline) {
    if (row.kind !== 'message') continue;
    const key = messageKey(row.conversationId, row.seq);
    created.add(key);
    row.changedSeq = changed.get(key) ?? null;
  }
  for (const [key, changedSeq] of changed) {
    if (created.has(key)) continue;
    const m = messages.get(key)!;
    writes.messageUpdates.push({ conversationId: m.conversationId, seq: m.seq, payload: m, changedSeq });
  }

  const finals = new Map<string, Conversation>();
  for (const [id, touch] of touched) {
    const state = states.get(id)!;
    finals.set(id, state);
    writes.conversations.push(conversationRow(state, touch));
    // Deletes run before inserts: a user removed and added back within the batch gets a
    // fresh row, exactly as when the two events fall in different batches.
    const was = input.states.get(id)?.members ?? new Set<string>();
    const reset = (userId: string) => removedInBatch.has(readerKey(id, userId));
    for (const userId of was) if (!state.members.has(userId) || reset(userId)) writes.memberDeletes.push({ conversationId: id, userId });
    for (const userId of state.members) {
      if (!was.has(userId) || reset(userId)) writes.memberInserts.push({ conversationId: id, userId, joinedSeq: periods.joinedSeq(id, userId)! });
    }
    for (const userId of moderated.get(id) ?? []) {
      if (!state.members.has(userId)) continue;
      const mute = state.muted?.get(userId);
      writes.memberModeration.push({
        conversationId: id, userId, role: roleOf(state, userId) === 'moderator' ? 'moderator' : 'member', mutedSeq: mute?.seq ?? null, mutedUntil: mute?.until ?? null,
      });
    }
  }
  periods.flush();
  return { writes, deliveries, states: finals };
}

/** The stored message an event's rules look at: the one a change or a report targets, or a reply's root. */
export function targetOf(event: ConversationEvent): number | undefined {
  if (isMessageChange(event) || event.type === 'MessageReported') return event.targetSeq;
  return event.type === 'MessageSent' ? event.threadRootSeq : undefined;
}

function isMessageChange(event: ConversationEvent): event is MessageChange {
  return event.type === 'MessageEdited' || event.type === 'MessageDeleted' || event.type === 'ReactionAdded' || event.type === 'ReactionRemoved';
}

/** Applies a change to the working copy of its message; returns the event clients see. */
function fold(message: Message, event: MessageChange, seq: number): ChatEvent {
  evolveMessage(message, event);
  const { conversationId, targetSeq } = event;
  switch (event.type) {
    case 'MessageEdited':
      return { type: 'message:edited', conversationId, seq, targetSeq, body: event.body, editedAt: event.at };
    case 'MessageDeleted':
      return { type: 'message:deleted', conversationId, seq, targetSeq };
    case 'ReactionAdded':
    case 'ReactionRemoved':
      return { type: 'reaction', conversationId, seq, targetSeq, userId: event.userId, emoji: event.emoji, op: event.type === 'ReactionAdded' ? 'add' : 'remove' };
    default: {
      const unhandled: never = event;
      return unhandled;
    }
  }
}

/**
 * Membership periods opened and closed by the batch, whatever the order: a user added,
 * removed and added again in one batch gets one closed period and one open one.
 */
class PeriodTracker {
  /** conversation\nuser -> joined seq of the period the batch opened and has not closed. */
  private readonly open = new Map<string, number>();
  private readonly lastJoined = new Map<string, number>();

  constructor(private readonly writes: ProjectionWrites) {}

  opened(conversationId: string, userId: string, seq: number): void {
    this.open.set(readerKey(conversationId, userId), seq);
    this.lastJoined.set(readerKey(conversationId, userId), seq);
  }

  joinedSeq(conversationId: string, userId: string): number | undefined {
    return this.lastJoined.get(readerKey(conversationId, userId));
  }

  close(conversationId: string, userId: string, seq: number): void {
    const key = readerKey(conversationId, userId);
    const joined = this.open.get(key);
    if (joined === undefined) {
      this.writes.periodCloses.push({ conversationId, userId, leftSeq: seq });
    } else {
      this.open.delete(key);
      this.writes.periodInserts.push({ conversationId, userId, joinedSeq: joined, leftSeq: seq });
    }
  }

  flush(): void {
    for (const [key, joinedSeq] of this.open) {
      const [conversationId, userId] = key.split('\n') as [string, string];
      this.writes.periodInserts.push({ conversationId, userId, joinedSeq, leftSeq: null });
    }
  }
}

function conversationRow(c: Conversation, touch: Touch): ConversationRow {
  return {
    id: c.id, kind: c.kind, title: c.title ?? null, createdBy: c.createdBy, createdAt: c.createdAt,
    // Only a creation claims the pair's key (the stored row keeps it afterwards).
    directKey: c.kind === 'direct' && touch.created ? directKey([...c.members]) : null,
    lastSeq: c.lastSeq, messageCount: c.messageCount, memberCount: c.members.size, everPulled: touch.pulled,
    // Reads, edits and reactions do not reorder a user's conversation list; the rest does.
    ...(touch.activityAt !== undefined && { lastActivityAt: touch.activityAt }),
    ...(touch.lastMessage !== undefined && { lastMessage: touch.lastMessage }),
    ...(c.slowMode && { slowModeSeconds: c.slowMode.seconds, slowModeSeq: c.slowMode.seq }),
  };
}
