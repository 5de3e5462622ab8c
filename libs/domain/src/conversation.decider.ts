import type { ConversationCommand } from './commands';
import type { Conversation, ConversationState, MessageRef } from './conversation.state';
import type { ConversationEvent, MembersAdded, MembersRemoved, MessageSent, ReadMarked } from './events';
import { MAX_ATTACHMENTS } from './attachments';
import { OPERATOR } from './ids';
import { MAX_DISTINCT_REACTIONS } from './message.state';
import { canonicalTime, MAX_REPORT_REASON, MAX_SLOW_MODE_SECONDS, moderationRefusal, mutedAt, roleOf, sendRestriction } from './moderation.rules';

/** Users one message may mention. */
export const MAX_MENTIONS = 50;

/** Why the rules refuse something. The gateway maps these to docs/protocol.md error codes. */
export type RejectionCode = 'NOT_FOUND' | 'FORBIDDEN' | 'BAD_REQUEST' | 'PAYLOAD_TOO_LARGE' | 'RATE_LIMITED' | 'CONFLICT';

export interface Rejection {
  code: RejectionCode;
  reason: string;
  /** When trying again may succeed: slow mode, a mute with an end. */
  retryAfterMs?: number;
}

/** Accepted with no events means "already so": an idempotent no-op. */
export type Decision = { ok: true; events: ConversationEvent[] } | { ok: false; rejection: Rejection };

const reject = (code: RejectionCode, reason: string): Decision => ({ ok: false, rejection: { code, reason } });
const accept = (...events: ConversationEvent[]): Decision => ({ ok: true, events });

/**
 * Turns a command into the events to append, given the state the caller knows. The
 * projector re-checks every event with `admit` in log order, because the state the
 * gateway decided on may be stale by the time the event is sequenced.
 */
export function decide(cmd: ConversationCommand, state: ConversationState, target?: MessageRef): Decision {
  switch (cmd.type) {
    case 'CreateConversation': {
      const members = [...new Set([cmd.creator, ...cmd.members])];
      if (cmd.kind === 'direct' && members.length !== 2) {
        return reject('BAD_REQUEST', 'a direct conversation has exactly one other member');
      }
      if (state) return reject('CONFLICT', 'conversation exists');
      const title = cmd.kind === 'group' ? cmd.title : undefined;
      return checked(state, {
        type: 'ConversationCreated', v: 1, conversationId: cmd.conversationId, kind: cmd.kind,
        members, createdBy: cmd.creator, at: cmd.at, ...(title !== undefined && { title }),
      });
    }
    case 'AddMembers': {
      const fresh = state ? uniq(cmd.userIds).filter((u) => !state.members.has(u)) : cmd.userIds;
      const event: ConversationEvent = { type: 'MembersAdded', v: 1, conversationId: cmd.conversationId, by: cmd.by, userIds: fresh, at: cmd.at };
      return fresh.length === 0 && state?.kind === 'group' && state.members.has(cmd.by) ? accept() : checked(state, event);
    }
    case 'RemoveMembers': {
      const present = state ? uniq(cmd.userIds).filter((u) => state.members.has(u)) : cmd.userIds;
      const event: ConversationEvent = { type: 'MembersRemoved', v: 1, conversationId: cmd.conversationId, by: cmd.by, userIds: present, at: cmd.at };
      // Removing nobody who is a member is already so, for a member or the operator.
      return present.length === 0 && state?.kind === 'group' && (state.members.has(cmd.by) || cmd.by === OPERATOR) ? accept() : checked(state, event);
    }
    case 'SendMessage': {
      const mentions = cmd.mentions && uniq(cmd.mentions);
      const decision = checked(state, {
        type: 'MessageSent', v: 1, conversationId: cmd.conversationId, senderId: cmd.senderId,
        clientMsgId: cmd.clientMsgId, body: cmd.body, at: cmd.at,
        ...(cmd.replyToSeq !== undefined && { replyToSeq: cmd.replyToSeq }),
        ...(cmd.threadRootSeq !== undefined && { threadRootSeq: cmd.threadRootSeq }),
        ...(mentions && mentions.length > 0 && { mentions }),
        ...(cmd.attachments && cmd.attachments.length > 0 && { attachments: cmd.attachments }),
        ...(state && { basis: state.lastSeq }),
      }, target);
      if (!decision.ok) return decision;
      if (cmd.body.length === 0 && !cmd.attachments?.length) return reject('BAD_REQUEST', 'body: empty, and no attachments');
      if (cmd.attachments && cmd.attachments.length > MAX_ATTACHMENTS) return reject('PAYLOAD_TOO_LARGE', `a message has at most ${MAX_ATTACHMENTS} attachments`);
      // Checked when the send is decided, not again in log order: a mention of a member
      // removed meanwhile is dropped by the projection, the message stands.
      if (mentions && mentions.length > MAX_MENTIONS) return reject('BAD_REQUEST', `a message mentions at most ${MAX_MENTIONS} users`);
      const stranger = mentions?.find((u) => !state!.members.has(u));
      if (stranger !== undefined) return reject('BAD_REQUEST', `mentions: ${stranger} is not a member`);
      // No new reply to a deleted root; one that raced the deletion is still kept (threadRule).
      if (cmd.threadRootSeq !== undefined && target?.deleted) return reject('NOT_FOUND', 'threadRootSeq: the message was deleted');
      // Everything the caller knows counts here (no basis): a mute, the last send in slow mode.
      const restricted = sendRestriction(state!, cmd.senderId, cmd.at);
      return restricted ? { ok: false, rejection: restricted } : decision;
    }
    case 'SetNotify':
      return checked(state, {
        type: 'NotifySet', v: 1, conversationId: cmd.conversationId, userId: cmd.userId, level: cmd.level, at: cmd.at,
        ...(cmd.muteUntil !== undefined && { muteUntil: cmd.muteUntil }),
      });
    case 'EditMessage':
      return checked(state, { type: 'MessageEdited', v: 1, conversationId: cmd.conversationId, by: cmd.by, targetSeq: cmd.targetSeq, body: cmd.body, at: cmd.at }, target);
    case 'DeleteMessage':
      return checked(state, { type: 'MessageDeleted', v: 1, conversationId: cmd.conversationId, by: cmd.by, targetSeq: cmd.targetSeq, at: cmd.at }, target);
    case 'AddReaction':
    case 'RemoveReaction': {
      const event: ConversationEvent = {
        type: cmd.type === 'AddReaction' ? 'ReactionAdded' : 'ReactionRemoved', v: 1, conversationId: cmd.conversationId,
        userId: cmd.userId, targetSeq: cmd.targetSeq, emoji: cmd.emoji, at: cmd.at,
      };
      const rejection = admit(state, event, target);
      // Reacting twice, or removing a reaction that is not there, is already so.
      return rejection?.code === 'CONFLICT' ? accept() : rejection ? { ok: false, rejection } : accept(event);
    }
    case 'SetRole':
      return orAlreadySo(state, { type: 'RoleSet', v: 1, conversationId: cmd.conversationId, by: cmd.by, userId: cmd.userId, role: cmd.role, at: cmd.at });
    case 'MuteMember':
      return orAlreadySo(state, {
        type: 'MemberMuted', v: 1, conversationId: cmd.conversationId, by: cmd.by, userId: cmd.userId, at: cmd.at,
        ...(cmd.until !== undefined && { until: cmd.until }),
      });
    case 'UnmuteMember':
      return orAlreadySo(state, { type: 'MemberUnmuted', v: 1, conversationId: cmd.conversationId, by: cmd.by, userId: cmd.userId, at: cmd.at });
    case 'SetSlowMode':
      return orAlreadySo(state, { type: 'SlowModeSet', v: 1, conversationId: cmd.conversationId, by: cmd.by, seconds: cmd.seconds, at: cmd.at });
    case 'ReportMessage':
      return checked(state, { type: 'MessageReported', v: 1, conversationId: cmd.conversationId, by: cmd.by, targetSeq: cmd.targetSeq, reason: cmd.reason, at: cmd.at }, target);
    case 'MarkRead':
      // Clamped to the end of the conversation where it is sequenced (`readMarkerAt`), not
      // here: the caller's view of the end may be stale.
      return checked(state, { type: 'ReadMarked', v: 2, conversationId: cmd.conversationId, userId: cmd.userId, upToSeq: cmd.seq, at: cmd.at });
    default: {
      const unhandled: never = cmd;
      return unhandled;
    }
  }
}

function checked(state: ConversationState, event: ConversationEvent, target?: MessageRef): Decision {
  const rejection = admit(state, event, target);
  return rejection ? { ok: false, rejection } : accept(event);
}

/** A change that is already so (CONFLICT) is an idempotent no-op: accepted, nothing to append. */
function orAlreadySo(state: ConversationState, event: ConversationEvent): Decision {
  const rejection = admit(state, event);
  return rejection?.code === 'CONFLICT' ? accept() : rejection ? { ok: false, rejection } : accept(event);
}

/**
 * The rules, applied to an event at its position in the log. `undefined` admits it.
 * Deterministic in (state, event), so every replay reaches the same verdicts.
 */
export function admit(state: ConversationState, event: ConversationEvent, target?: MessageRef): Rejection | undefined {
  if (event.type === 'ConversationCreated') {
    if (state) return { code: 'CONFLICT', reason: 'conversation exists' };
    if (!event.members.includes(event.createdBy)) return { code: 'BAD_REQUEST', reason: 'creator is not a member' };
    if (event.kind === 'direct' && new Set(event.members).size !== 2) {
      return { code: 'BAD_REQUEST', reason: 'a direct conversation has exactly two members' };
    }
    return undefined;
  }
  if (!state) return { code: 'NOT_FOUND', reason: 'no such conversation' };
  switch (event.type) {
    case 'MembersAdded':
      return membershipChange(state, event, () => undefined);
    case 'MembersRemoved':
      return membershipChange(state, event, (u) => {
        if (u === event.by || event.by === OPERATOR) return undefined;
        if (roleOf(state, u) === 'owner') return 'the owner cannot be removed by others';
        return moderationRefusal(state, event.by) && 'only the owner and moderators remove other members';
      });
    case 'MessageSent': {
      if (!state.members.has(event.senderId) && !concurrentWithRemoval(state, event.senderId, event.basis)) {
        return { code: 'FORBIDDEN', reason: 'sender is not a member' };
      }
      if (event.replyToSeq !== undefined && event.replyToSeq > state.lastSeq) {
        return { code: 'NOT_FOUND', reason: 'replyToSeq is past the end of the conversation' };
      }
      // Only what the deciding gateway could know of holds the send back (its basis); an event without one was decided knowing all.
      const restricted = sendRestriction(state, event.senderId, event.at, event.basis);
      return restricted ?? threadRule(state, event, target);
    }
    case 'MessageEdited':
      return messageChange(state, event.by, target, () =>
        target!.senderId !== event.by ? 'only the author edits a message' : mutedAt(state.muted?.get(event.by), event.at) ? 'you are muted in this conversation' : undefined,
      );
    case 'MessageDeleted':
      if (event.by === OPERATOR) return !target || target.deleted ? { code: 'NOT_FOUND', reason: 'no such message' } : undefined;
      return messageChange(state, event.by, target, () =>
        target!.senderId === event.by || (state.kind === 'group' && roleOf(state, event.by) !== 'member')
          ? undefined
          : 'only the author, or in a group its owner and moderators, deletes a message',
      );
    case 'ReactionAdded':
    case 'ReactionRemoved': {
      const refused = messageChange(state, event.userId, target, () => (mutedAt(state.muted?.get(event.userId), event.at) ? 'you are muted in this conversation' : undefined));
      if (refused) return refused;
      // Own properties only: an emoji such as `__proto__` or `toString` is just a name here.
      const has = Object.hasOwn(target!.reactions, event.emoji) && target!.reactions[event.emoji]!.includes(event.userId);
      if (event.type === 'ReactionAdded' ? has : !has) return { code: 'CONFLICT', reason: event.type === 'ReactionAdded' ? 'already reacted' : 'no such reaction' };
      // Joining an emoji already there is always allowed; only a new emoji counts.
      if (event.type === 'ReactionAdded' && !Object.hasOwn(target!.reactions, event.emoji) && Object.keys(target!.reactions).length >= MAX_DISTINCT_REACTIONS) {
        return { code: 'PAYLOAD_TOO_LARGE', reason: `a message carries at most ${MAX_DISTINCT_REACTIONS} distinct reactions` };
      }
      return undefined;
    }
    case 'ReadMarked':
      return state.members.has(event.userId) ? undefined : { code: 'FORBIDDEN', reason: 'reader is not a member' };
    case 'NotifySet':
      if (!state.members.has(event.userId)) return { code: 'FORBIDDEN', reason: 'not a member' };
      // Judged by the time the command was accepted, so every replay reaches the same verdict.
      if (event.muteUntil !== undefined && !(Date.parse(event.muteUntil) > Date.parse(event.at))) {
        return { code: 'BAD_REQUEST', reason: 'muteUntil: not a time in the future' };
      }
      return undefined;
    case 'RoleSet': {
      const why = moderationRefusal(state, event.by, { ownerOnly: true });
      if (why) return { code: 'FORBIDDEN', reason: why };
      if (!state.members.has(event.userId)) return { code: 'BAD_REQUEST', reason: 'userId: not a member of this conversation' };
      if (roleOf(state, event.userId) === 'owner') return { code: 'FORBIDDEN', reason: 'the owner keeps its role' };
      if (roleOf(state, event.userId) === event.role) return { code: 'CONFLICT', reason: `already ${event.role === 'moderator' ? 'a moderator' : 'a member'}` };
      return undefined;
    }
    case 'MemberMuted':
    case 'MemberUnmuted': {
      const why = moderationRefusal(state, event.by, { operator: true });
      if (why) return { code: 'FORBIDDEN', reason: why };
      if (!state.members.has(event.userId)) return { code: 'BAD_REQUEST', reason: 'userId: not a member of this conversation' };
      const mute = state.muted?.get(event.userId);
      if (event.type === 'MemberUnmuted') return mute ? undefined : { code: 'CONFLICT', reason: 'not muted' };
      // The operator stands above every role; in the conversation, the owner is never muted.
      if (roleOf(state, event.userId) === 'owner' && event.by !== OPERATOR) return { code: 'FORBIDDEN', reason: 'the owner cannot be muted' };
      // Judged by the time the command was accepted, so every replay reaches the same verdict.
      if (event.until !== undefined && !(Date.parse(event.until) > Date.parse(event.at))) return { code: 'BAD_REQUEST', reason: 'until: not a time in the future' };
      if (mute && mute.until === (event.until === undefined ? undefined : canonicalTime(event.until))) return { code: 'CONFLICT', reason: 'already muted so' };
      return undefined;
    }
    case 'SlowModeSet': {
      const why = moderationRefusal(state, event.by);
      if (why) return { code: 'FORBIDDEN', reason: why };
      if (!Number.isInteger(event.seconds) || event.seconds < 0 || event.seconds > MAX_SLOW_MODE_SECONDS) {
        return { code: 'BAD_REQUEST', reason: `seconds: 0 to ${MAX_SLOW_MODE_SECONDS}` };
      }
      if (event.seconds === (state.slowMode?.seconds ?? 0)) return { code: 'CONFLICT', reason: 'slow mode already so' };
      return undefined;
    }
    case 'MessageReported': {
      if (!state.members.has(event.by)) return { code: 'FORBIDDEN', reason: 'not a member' };
      if (!target || target.deleted) return { code: 'NOT_FOUND', reason: 'no such message' };
      if (target.senderId === event.by) return { code: 'BAD_REQUEST', reason: 'seq: one\'s own message cannot be reported' };
      if (event.reason.length === 0 || event.reason.length > MAX_REPORT_REASON) return { code: 'BAD_REQUEST', reason: `reason: 1 to ${MAX_REPORT_REASON} characters` };
      return undefined;
    }
    default: {
      const unhandled: never = event;
      return unhandled;
    }
  }
}

/**
 * A reply's root (`target`) is a message of this conversation that is not itself a reply:
 * threads are one level deep. Both facts never change once the root is in the log, so a
 * gateway may check them from a cache. Its deletion does change, and is checked only when
 * the reply is decided (decide): a reply that raced it is kept, in the thread of a deleted
 * root, as Slack keeps the replies of a deleted message.
 */
function threadRule(state: Conversation, event: MessageSent, target: MessageRef | undefined): Rejection | undefined {
  if (event.threadRootSeq === undefined) return undefined;
  if (event.threadRootSeq > state.lastSeq || !target) return { code: 'NOT_FOUND', reason: 'threadRootSeq: no such message' };
  if (target.inThread) return { code: 'BAD_REQUEST', reason: 'threadRootSeq: a reply cannot start a thread' };
  return undefined;
}

/** A member changing a message that exists and is not deleted, if `refuse` has nothing against it. */
function messageChange(state: Conversation, by: string, target: MessageRef | undefined, refuse: () => string | undefined): Rejection | undefined {
  if (!state.members.has(by)) return { code: 'FORBIDDEN', reason: 'not a member' };
  if (!target || target.deleted) return { code: 'NOT_FOUND', reason: 'no such message' };
  const why = refuse();
  return why ? { code: 'FORBIDDEN', reason: why } : undefined;
}

function membershipChange(
  state: Conversation,
  event: MembersAdded | MembersRemoved,
  refuse: (userId: string) => string | undefined,
): Rejection | undefined {
  // The operator removes whatever its membership (upcast lets it name no other event here).
  if (!state.members.has(event.by) && !(event.type === 'MembersRemoved' && event.by === OPERATOR)) return { code: 'FORBIDDEN', reason: 'not a member' };
  if (state.kind === 'direct') return { code: 'FORBIDDEN', reason: 'direct conversations have fixed members' };
  if (event.userIds.length === 0) return { code: 'BAD_REQUEST', reason: 'no user to change' };
  for (const u of event.userIds) {
    const why = refuse(u);
    if (why) return { code: 'FORBIDDEN', reason: why };
  }
  // Two gateways deciding on the same state can both append a change; the later one may
  // change nothing by the time it is sequenced.
  if (membershipEffect(state, event).length === 0) return { code: 'CONFLICT', reason: 'membership already so' };
  return undefined;
}

/** Where a read marker lands at its place in the log: past the end means "all read". */
export function readMarkerAt(state: Conversation, event: ReadMarked): number {
  return Math.min(event.upToSeq, state.lastSeq);
}

/**
 * The users a membership event really changes at its place in the log: those added who
 * were not members, those removed who were. What the projection records and shows.
 */
export function membershipEffect(state: Conversation, event: MembersAdded | MembersRemoved): string[] {
  const unique = [...new Set(event.userIds)];
  return event.type === 'MembersAdded' ? unique.filter((u) => !state.members.has(u)) : unique.filter((u) => state.members.has(u));
}

/** How many of a conversation's latest removals its state keeps, to judge concurrent sends by. */
export const DEPARTED_KEPT = 64;

/**
 * A send by a user who is no longer a member is still admitted when the state it was
 * decided on (`basis`) is older than the user's removal: the gateway checked a membership
 * that held then, acked the send once it was in the log, and the removal landed in between.
 */
function concurrentWithRemoval(state: Conversation, senderId: string, basis: number | undefined): boolean {
  const removedAt = state.departed?.get(senderId);
  return basis !== undefined && removedAt !== undefined && removedAt > basis;
}

/** The state after an admitted event at `seq`. Never called for a rejected event. */
export function evolve(state: ConversationState, event: ConversationEvent, seq: number): Conversation {
  if (event.type === 'ConversationCreated') {
    return {
      id: event.conversationId, kind: event.kind, createdBy: event.createdBy, createdAt: event.at,
      members: new Set(event.members), lastSeq: seq, messageCount: 0,
      ...(event.title !== undefined && { title: event.title }),
    };
  }
  if (!state) throw new Error(`evolve: ${event.type} before ConversationCreated`);
  switch (event.type) {
    case 'MembersAdded': {
      const departed = state.departed && new Map([...state.departed].filter(([u]) => !event.userIds.includes(u)));
      return { ...state, lastSeq: seq, members: new Set([...state.members, ...event.userIds]), ...(departed && { departed }) };
    }
    case 'MembersRemoved': {
      const gone = new Set(event.userIds);
      const departed = new Map(state.departed);
      for (const u of gone) if (state.members.has(u)) departed.set(u, seq);
      // Removals are appended in seq order, so the map's first entries are the oldest.
      for (const u of departed.keys()) if (departed.size > DEPARTED_KEPT) departed.delete(u);
      // A role, a mute and a last send belong to the membership: a member added back starts afresh.
      const next: Conversation = { ...state, lastSeq: seq, members: new Set([...state.members].filter((u) => !gone.has(u))), departed };
      return withModeration(next, {
        moderators: state.moderators && without(state.moderators, gone),
        muted: state.muted && without(state.muted, gone),
        lastSends: state.lastSends && without(state.lastSends, gone),
      });
    }
    case 'MessageSent': {
      const next = { ...state, lastSeq: seq, messageCount: state.messageCount + 1 };
      // A send after its sender's removal (concurrent with it) is no member's.
      if (!state.lastSends || !state.members.has(event.senderId)) return next;
      return { ...next, lastSends: new Map(state.lastSends).set(event.senderId, { seq, at: canonicalTime(event.at) }) };
    }
    case 'RoleSet': {
      const moderators = new Set(state.moderators);
      if (event.role === 'moderator') moderators.add(event.userId);
      else moderators.delete(event.userId);
      return withModeration({ ...state, lastSeq: seq }, { moderators });
    }
    case 'MemberMuted':
      return { ...state, lastSeq: seq, muted: new Map(state.muted).set(event.userId, { seq, ...(event.until !== undefined && { until: canonicalTime(event.until) }) }) };
    case 'MemberUnmuted':
      return withModeration({ ...state, lastSeq: seq }, { muted: state.muted && without(state.muted, new Set([event.userId])) });
    case 'SlowModeSet': {
      // Sends before it do not count: every member starts with a clean slate.
      const { slowMode: _slowMode, lastSends: _lastSends, ...rest } = state;
      return event.seconds > 0 ? { ...rest, lastSeq: seq, slowMode: { seconds: event.seconds, seq }, lastSends: new Map() } : { ...rest, lastSeq: seq };
    }
    case 'MessageReported':
      // Operators' business: nothing members see changes.
      return state;
    case 'MessageEdited':
    case 'MessageDeleted':
    case 'ReactionAdded':
    case 'ReactionRemoved':
      return { ...state, lastSeq: seq };
    case 'ReadMarked':
    case 'NotifySet':
      // Reading is not news: lastSeq stays the last change to the conversation itself, so
      // "read up to the end" lands on the same seq however many markers follow. Nor is a
      // member's own notification setting.
      return state;
    default: {
      const unhandled: never = event;
      return unhandled;
    }
  }
}

/** Sets the moderation parts given, leaving out those that are empty (absent means none). */
function withModeration(
  state: Conversation,
  parts: Partial<Pick<Conversation, 'moderators' | 'muted' | 'lastSends'>>,
): Conversation {
  const next: { -readonly [K in keyof Conversation]: Conversation[K] } = { ...state };
  if ('moderators' in parts) {
    if (parts.moderators?.size) next.moderators = parts.moderators;
    else delete next.moderators;
  }
  if ('muted' in parts) {
    if (parts.muted?.size) next.muted = parts.muted;
    else delete next.muted;
  }
  // lastSends stays, empty or not, exactly while slow mode is on.
  if (parts.lastSends) next.lastSends = parts.lastSends;
  return next;
}

function without(items: ReadonlySet<string>, gone: ReadonlySet<string>): Set<string>;
function without<V>(items: ReadonlyMap<string, V>, gone: ReadonlySet<string>): Map<string, V>;
function without<V>(items: ReadonlySet<string> | ReadonlyMap<string, V>, gone: ReadonlySet<string>): Set<string> | Map<string, V> {
  if (items instanceof Set) return new Set([...items].filter((u) => !gone.has(u)));
  return new Map([...(items as ReadonlyMap<string, V>)].filter(([u]) => !gone.has(u)));
}

function uniq<T>(items: T[]): T[] {
  return [...new Set(items)];
}
